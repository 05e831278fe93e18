"""TextArena's catalogue as arena games: ``textarena:<EnvId>`` (e.g. ``textarena:SimpleNegotiation-v0``).

Card (TextArena 0.7.4, https://github.com/LeonGuertler/TextArena):

- **players**: whatever the TextArena env accepts, found by probing: reset with n players and keep n
  when the env's state really holds n players.  Parameter ``players`` when that is a range; the
  env's own constructor arguments (``num_rounds``, ``max_turns``, ...) are parameters too.
- **actions**: free text (``legal_actions`` is None), passed to TextArena after the registered
  *action* wrappers (offline string transforms: ``ActionFormattingWrapper`` adds [brackets],
  clipping).  The observation and render wrappers are stripped; nothing is fetched or judged online.
- **observation**: the messages TextArena routed to that player, ``[GAME] ...`` / ``[Player 1] ...``;
  the player's TextArena prompt (rules, private role and resources) is its rules text.
- **illegal moves**: ``parse`` plays the answer on a clone; if TextArena flags it (its
  ``set_invalid_move``: a retry message or a penalty) or raises, :class:`IllegalAction` carries
  TextArena's reason and the live env is untouched, so the arena policy (tell, retry, fallback)
  applies.  ``apply`` of an answer that never went through ``parse`` (the fallback's default ``""``,
  PettingZoo's index action) is handed to TextArena as it is: TextArena's own invalid-move rule
  applies (a retry, then its penalty, usually loss or elimination), counted in
  ``metrics()["invalid_moves"]``.  Lax rules are tightened in ``parse`` (IPD: an answer without
  ``[Cooperate]``/``[Defect]`` would silently cooperate).
- **scoring**: TextArena's final rewards (mostly +1/-1/0, or rank-linear in [-1, 1]); metrics carry
  the reason, turns, roles, invalid moves and the game's own scores when it keeps them.
- **determinism**: TextArena seeds and draws from the global ``random`` (one env numpy's): every call
  into TextArena runs under a lock with the global generators swapped for this game's own saved
  states (seeded from the State's rng) and swapped back after, so the arena's global random is
  untouched and the same seed gives the same game.  Prints are swallowed.
- **information**: perfect for the families that hide nothing (:mod:`.kinds`: the board games with the
  board shown, Pig Dice), else imperfect; Kuhn and Indian poker have ``determinize``
  (:mod:`.determinize`); the other imperfect ones are refused by search and step values unless peeking
  is allowed.  Replacing the State's ``rng`` (rollouts, search do) reseeds TextArena's generators from
  it, so the env's chance (dice, later deals) is redrawn too, not replayed from the true game.
- **clone**: a deep copy (raw TextArena envs hold plain data); an env that cannot be deep-copied is
  re-made from its seed and the action log replayed.
- **refused**, with a one-line reason: games that need the network, an LLM judge or downloads (a
  curated list, checked against a scan of each env's source), games with fewer than two players,
  and games that do not load here (some TextArena 0.7.4 envs need Python 3.12 or miss data files).
"""

from arena.games.textarena.catalog import (PREFIX, REFUSED, STALL, TextArenaSpec, TextArenaUnavailable, _family,
                                           _registered, game_info, network_reason, refused_games, registered_ids,
                                           scan_source, textarena_games, textarena_listing,
                                           textarena_spec)
from arena.games.textarena.state import STRICT, TextArenaState

__all__ = ["PREFIX", "REFUSED", "STALL", "STRICT", "TextArenaSpec", "TextArenaState", "TextArenaUnavailable",
           "game_info", "network_reason", "refused_games", "registered_ids", "scan_source", "textarena_games",
           "textarena_listing",
           "textarena_spec", "_family", "_registered"]
