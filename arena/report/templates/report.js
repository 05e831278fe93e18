function showStep(rep, n) {
  var frames = rep.querySelectorAll('.frame');
  if (!frames.length) { return; }
  n = Math.max(0, Math.min(frames.length - 1, isNaN(n) ? 0 : n));
  frames.forEach(function (f, i) { f.hidden = i !== n; });
  var slider = rep.querySelector('input.slider');
  if (slider) { slider.value = n; }
  var pos = rep.querySelector('.pos');
  if (pos) { pos.textContent = 'step ' + (n + 1) + ' / ' + frames.length; }
  rep.setAttribute('data-step', n);
}
function current(rep) { return parseInt(rep.getAttribute('data-step') || '0', 10); }
function openTarget() {
  var parts = decodeURIComponent(location.hash.slice(1)).split('@');
  var t = document.getElementById(parts[0]);
  if (t && t.tagName === 'DETAILS') {
    t.open = true;
    var rep = t.querySelector('.replay');
    if (rep && parts.length > 1) { showStep(rep, parseInt(parts[1], 10)); }
    if (parts[2] === 'solo') { document.body.classList.add('solo'); t.classList.add('solo-target'); }
    t.scrollIntoView();
  }
}
function setAll(open) { document.querySelectorAll('details.match').forEach(function (d) { d.open = open; }); }
function onClick(el, f) { if (el) { el.addEventListener('click', f); } }
function setupReplay(rep) {
  onClick(rep.querySelector('button.prev'), function () { showStep(rep, current(rep) - 1); });
  onClick(rep.querySelector('button.next'), function () { showStep(rep, current(rep) + 1); });
  var slider = rep.querySelector('input.slider');
  if (slider) { slider.addEventListener('input', function () { showStep(rep, parseInt(slider.value, 10)); }); }
  showStep(rep, 0);
}
window.addEventListener('hashchange', openTarget);
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('.replay').forEach(setupReplay);
  openTarget();
  onClick(document.getElementById('expand-all'), function () { setAll(true); });
  onClick(document.getElementById('collapse-all'), function () { setAll(false); });
});
