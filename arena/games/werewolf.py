"""Werewolf (Mafia): a social-deduction game with roles, free discussion and votes.

Card
- Players: 5–9, named P1..Pn.  Roles (counts configurable): werewolves (default 1 for
  5–6 players, 2 for 7–9), one seer, one doctor, the rest villagers; dealt from the
  state's seed.  Teams: wolves vs village (seer, doctor, villagers).
- Night: the wolves talk privately (one message each when there are several), then
  each names a victim (a living non-wolf; plurality, ties by a seeded draw); the seer
  inspects a living player and learns whether it is a wolf; the doctor protects a living
  player (``self_protect``), which saves the victim.
- Day: the deaths are announced; ``discussion_rounds`` rounds of free-text speeches in
  seat order; then a simultaneous vote on a living player or "skip".  Plurality
  eliminates; a tie eliminates nobody (``tie=none``) or a seeded draw among the tied
  (``tie=random``).  ``reveal_role`` shows the eliminated player's role.
- Ends when no wolf lives (village wins) or wolves are at least half of the living
  (wolves win); after ``max_days`` days it is a draw.
- Observation: own role; wolves know each other and read the wolf chat; the seer its
  own inspections; the doctor its own protections; everything public (deaths, speeches,
  votes, eliminations).  Nothing else.
- Scoring: winners 1, losers 0, a draw 0.5 each.  Metrics per seat: role, team, win,
  survival, vote accuracy (share of its day votes cast on wolves).
- Setup: "Training Language Models for Social Deduction with Multi-Agent Reinforcement
  Learning" (Sarkar et al., 2025) for the discussion-then-vote loop.
- Hidden information: ``determinize(player, rng)`` redraws the roles that player does not know,
  consistently with its view (search and step values never see the true roles).  Version 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from arena.games.analysis import AnalysisOptions, AnalysisTable, Result
from arena.games.base import GameInfo, IllegalAction, State

WOLF, SEER, DOCTOR, VILLAGER = "werewolf", "seer", "doctor", "villager"
NO_MESSAGE = "(no message)"
SKIP = "skip"


class WerewolfState(State):
    game_id = "werewolf"

    def __init__(self, seed: int | None = None, players: int = 7, wolves: int = 0, seers: int = 1,
                 doctors: int = 1, discussion_rounds: int = 1, tie: str = "none", reveal_role: bool = True,
                 self_protect: bool = True, max_days: int = 10) -> None:
        wolves = wolves or (1 if players <= 6 else 2)
        if not 5 <= players <= 9:
            raise ValueError("werewolf needs 5 to 9 players")
        if wolves < 1 or wolves + seers + doctors >= players or wolves * 2 >= players:
            raise ValueError("need at least one wolf, fewer wolves than half the players, and room for villagers")
        if tie not in ("none", "random"):
            raise ValueError(f"unknown tie rule {tie!r}; valid: none, random")
        super().__init__(players, seed)
        self.names = [f"P{i + 1}" for i in range(players)]
        self.action_vocab = tuple(self.names) + (SKIP, NO_MESSAGE)
        self.free_text_default = NO_MESSAGE
        roles = [WOLF] * wolves + [SEER] * seers + [DOCTOR] * doctors
        roles += [VILLAGER] * (players - len(roles))
        self.rng.shuffle(roles)
        self.roles = roles
        self.rounds, self.tie, self.reveal, self.self_protect, self.max_days = (
            discussion_rounds, tie, reveal_role, self_protect, max_days)
        self.alive = [True] * players
        self.day, self.phase = 0, "wolf_chat"
        self.queue: list[int] = []
        self.pending: dict[int, str] = {}
        self.public: list[str] = []
        self.private: dict[int, list[str]] = {p: [] for p in range(players)}
        self.wolf_chat: list[str] = []
        self.votes: dict[int, list[str]] = {p: [] for p in range(players)}
        self.winner: str | None = None
        self._begin_night()

    # --- helpers ------------------------------------------------------------
    def living(self, role: str | None = None) -> list[int]:
        return [p for p in range(self.num_players) if self.alive[p] and (role is None or self.roles[p] == role)]

    def team(self, player: int) -> str:
        return "wolves" if self.roles[player] == WOLF else "village"

    def _begin_night(self) -> None:
        self.day += 1
        wolves = self.living(WOLF)
        self.phase = "wolf_chat" if len(wolves) > 1 else "night"
        self.queue = list(wolves) if len(wolves) > 1 else []
        if self.phase == "night":
            self._begin_night_actions()

    def _begin_night_actions(self) -> None:
        self.phase, self.pending = "night", {}
        self.queue = self.living(WOLF) + [p for p in self.living() if self.roles[p] in (SEER, DOCTOR)]

    def _targets(self, player: int) -> list[str]:
        role = self.roles[player]
        if self.phase == "vote":
            return [self.names[p] for p in self.living() if p != player] + [SKIP]
        if role == WOLF:
            return [self.names[p] for p in self.living() if self.roles[p] != WOLF]
        if role == SEER:
            return [self.names[p] for p in self.living() if p != player]
        return [self.names[p] for p in self.living() if p != player or self.self_protect]

    # --- flow ---------------------------------------------------------------
    def to_move(self) -> list[int]:
        if self.winner is not None:
            return []
        if self.phase in ("wolf_chat", "talk"):
            return self.queue[:1]
        return [p for p in self.queue if p not in self.pending]

    def legal_actions(self, player: int) -> list[str] | None:
        return None if self.phase in ("wolf_chat", "talk") else self._targets(player)

    def parse(self, player: int, text: str) -> str:
        if self.phase in ("wolf_chat", "talk"):
            return " ".join(text.split())[:600] or NO_MESSAGE
        return super().parse(player, text)

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move():
            raise IllegalAction(f"{self.names[player]} is not to act now")
        if self.phase in ("wolf_chat", "talk"):
            self._speak(player, action)
            return
        if action not in self._targets(player):
            raise IllegalAction(f"{action!r} is not a valid choice; choose one of: {', '.join(self._targets(player))}")
        self.pending[player] = action
        if not self.to_move():
            self._resolve_night() if self.phase == "night" else self._resolve_vote()

    def _speak(self, player: int, text: str) -> None:
        self.queue.pop(0)
        line = f'{self.names[player]}: "{text}"'
        if self.phase == "wolf_chat":
            self.wolf_chat.append(f"Night {self.day}, {line}")
            if not self.queue:
                self._begin_night_actions()
            return
        self.public.append(f"Day {self.day}, {line}")
        if not self.queue:
            self.phase, self.pending, self.queue = "vote", {}, self.living()

    def _resolve_night(self) -> None:
        picks = [self.pending[p] for p in self.living(WOLF)]
        victim = self._plurality(picks, random_ties=True)
        saved = {self.pending[p] for p in self.living(DOCTOR)}
        for p in self.living(SEER):
            target = self.names.index(self.pending[p])
            found = "a werewolf" if self.roles[target] == WOLF else "not a werewolf"
            self.private[p].append(f"Night {self.day}: you inspected {self.names[target]}: {found}.")
        for p in self.living(DOCTOR):
            self.private[p].append(f"Night {self.day}: you protected {self.pending[p]}.")
        if victim is not None and victim not in saved:
            self.alive[self.names.index(victim)] = False
            self.public.append(f"Night {self.day}: {victim} was killed.")
        else:
            self.public.append(f"Night {self.day}: nobody died.")
        if not self._check_end():
            self.phase = "talk"
            self.queue = self.living() * self.rounds

    def _resolve_vote(self) -> None:
        cast = {p: self.pending[p] for p in self.living()}
        for p, target in cast.items():
            self.votes[p].append(target)
        self.public.append(f"Day {self.day} votes: " + ", ".join(f"{self.names[p]}->{t}" for p, t in cast.items()))
        out = self._plurality([t for t in cast.values() if t != SKIP], random_ties=self.tie == "random")
        if out is None:
            self.public.append(f"Day {self.day}: nobody was eliminated.")
        else:
            idx = self.names.index(out)
            self.alive[idx] = False
            role = f" They were {'a ' + self.roles[idx]}." if self.reveal else ""
            self.public.append(f"Day {self.day}: {out} was eliminated.{role}")
        if not self._check_end():
            if self.day >= self.max_days:
                self.winner = "draw"
            else:
                self._begin_night()

    def _plurality(self, picks: list[str], random_ties: bool) -> str | None:
        if not picks:
            return None
        counts = Counter(picks)
        top = max(counts.values())
        tied = sorted(name for name, c in counts.items() if c == top)
        if len(tied) == 1:
            return tied[0]
        return self.rng.choice(tied) if random_ties else None

    def _check_end(self) -> bool:
        wolves, others = len(self.living(WOLF)), len(self.living()) - len(self.living(WOLF))
        if wolves == 0:
            self.winner = "village"
        elif wolves >= others:
            self.winner = "wolves"
        return self.winner is not None

    def returns(self) -> list[float]:
        if self.winner is None:
            return [0.0] * self.num_players
        if self.winner == "draw":
            return [0.5] * self.num_players
        return [1.0 if self.team(p) == self.winner else 0.0 for p in range(self.num_players)]

    # --- hidden information ---------------------------------------------------
    def known_roles(self, player: int) -> tuple[dict[int, str], set[int]]:
        """What ``player`` knows of the roles: ``({seat: role}, {seats known not to be wolves})`` -- its own
        role, its fellow wolves (a wolf), revealed eliminations, its inspections (a seer), night victims."""
        known = {player: self.roles[player]}
        if self.roles[player] == WOLF:
            known.update({p: WOLF for p in range(self.num_players) if self.roles[p] == WOLF})
        for line in self.public:
            if " was eliminated. They were a " in line:
                name, role = line.split(": ", 1)[1].split(" was eliminated. They were a ")
                known[self.names.index(name)] = role.rstrip(".")
        not_wolf = {self.names.index(line.split(": ", 1)[1].removesuffix(" was killed."))
                    for line in self.public if line.endswith(" was killed.")}
        for line in self.private[player]:
            if "inspected" in line:
                target = self.names.index(line.split("inspected ")[1].split(":")[0])
                if line.endswith(": a werewolf."):
                    known[target] = WOLF
                else:
                    not_wolf.add(target)
        return known, not_wolf

    def determinize(self, player: int, rng: Any) -> WerewolfState:
        """A clone with every role ``player`` does not know redrawn uniformly among the assignments consistent
        with what it knows (:meth:`known_roles`, and the game not being over), built only from ``player``'s
        view; what the others saw privately (the wolf chat for a non-wolf, others' inspections and
        protections) is unknown to ``player`` and cleared, and the night's movers are recomputed."""
        known, not_wolf = self.known_roles(player)
        hidden = [p for p in range(self.num_players) if p not in known]
        pool = sorted((Counter(self.roles) - Counter(known.values())).elements())
        roles = [known.get(p, "") for p in range(self.num_players)]
        for _ in range(10_000):
            rng.shuffle(pool)
            for seat, role in zip(hidden, pool):
                roles[seat] = role
            wolves = sum(self.alive[p] and roles[p] == WOLF for p in range(self.num_players))
            if all(roles[p] != WOLF for p in not_wolf) and 0 < wolves < sum(self.alive) - wolves:
                break
        else:
            raise RuntimeError(f"werewolf: no role assignment consistent with {self.names[player]}'s view")
        new = self.clone()
        new.roles = roles
        new.private = {p: list(self.private[p]) if p == player else [] for p in range(self.num_players)}
        if self.roles[player] != WOLF:
            new.wolf_chat = []
        if self.phase == "night":
            new.queue = new.living(WOLF) + [p for p in new.living() if roles[p] in (SEER, DOCTOR)]
            new.pending = {p: a for p, a in self.pending.items() if p == player}
        return new

    # --- text ---------------------------------------------------------------
    def rules_text(self, player: int) -> str:
        role = self.roles[player]
        goal = ("Your team wins when werewolves are at least half of the living players."
                if role == WOLF else "Your team wins when every werewolf is eliminated.")
        power = {WOLF: "Each night you and your fellow werewolves choose a victim.",
                 SEER: "Each night you inspect one player and learn whether they are a werewolf.",
                 DOCTOR: "Each night you protect one player from the werewolves.",
                 VILLAGER: "You have no night power; find the werewolves by talking and voting."}[role]
        return (f"You are {self.names[player]} in a game of Werewolf with {self.num_players} players "
                f"({', '.join(self.names)}). Your role: {role}. {power} {goal} Each day everyone speaks in turn, "
                "then all vote to eliminate one player (or skip). When asked to speak, answer with what you say; "
                "when asked to choose, answer with exactly one of the listed options.")

    def observation(self, player: int) -> str:
        lines = [f"You are {self.names[player]}, a {self.roles[player]}."]
        if self.roles[player] == WOLF:
            mates = [self.names[p] for p in range(self.num_players) if self.roles[p] == WOLF and p != player]
            lines.append(f"Fellow werewolves: {', '.join(mates) or 'none'}.")
            lines += [f"(wolf chat) {line}" for line in self.wolf_chat]
        lines += self.private[player] + self.public
        lines.append(f"Living players: {', '.join(self.names[p] for p in self.living())}.")
        if player in self.to_move():
            prompt = {"wolf_chat": "Night: say something to your fellow werewolves.",
                      "talk": "Day: your turn to speak to everyone.",
                      "vote": "Day: vote to eliminate one player or skip."}.get(self.phase)
            lines.append(prompt or f"Night: choose your target: {', '.join(self._targets(player))}.")
        if self.winner is not None:
            lines.append(f"The game is over: {self.winner if self.winner == 'draw' else self.winner + ' win'}.")
        return "\n".join(lines)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"me": "your name", "role": "your role", "phase": "the current phase",
                 "alive": "names of living players", "wolves": "the werewolves (only if you are one; else empty)",
                 "inspections": "seer: name -> role found", "speeches": "public speeches so far"}

    def observation_data(self, player: int) -> dict[str, Any]:
        seen = {}
        for line in self.private[player]:
            if "inspected" in line:
                name = line.split("inspected ")[1].split(":")[0]
                seen[name] = "werewolf" if ": a werewolf" in line else "villager"
        return {"me": self.names[player], "role": self.roles[player], "phase": self.phase,
                "alive": [self.names[p] for p in self.living()],
                "wolves": [self.names[p] for p in range(self.num_players) if self.roles[p] == WOLF]
                if self.roles[player] == WOLF else [],
                "inspections": seen, "speeches": [line.split(", ", 1)[1] for line in self.public if ": \"" in line]}

    def metrics(self) -> dict[str, Any]:
        def accuracy(p: int) -> float | None:
            cast = [v for v in self.votes[p] if v != SKIP]
            return sum(self.roles[self.names.index(v)] == WOLF for v in cast) / len(cast) if cast else None
        return {"winner": self.winner, "days": self.day, "role": list(self.roles),
                "team": [self.team(p) for p in range(self.num_players)],
                "survived": [int(a) for a in self.alive],
                "vote_accuracy": [accuracy(p) for p in range(self.num_players)],
                "config": f"{self.num_players}p-{self.roles.count(WOLF)}w-{self.roles.count(SEER)}s-"
                          f"{self.roles.count(DOCTOR)}d"}


def team_tables(results: Sequence[Result], options: AnalysisOptions) -> list[AnalysisTable]:
    """Analysis hook: the per-role table and the team ratings (:mod:`arena.tournaments.teams`, loaded
    only when werewolf results are summarised)."""
    from arena.tournaments.teams import team_tables as tables
    return tables(results, options)


GAMES = {"werewolf": GameInfo(
    "werewolf", WerewolfState,
    {"players": 7, "wolves": 0, "seers": 1, "doctors": 1, "discussion_rounds": 1, "tie": "none",
     "reveal_role": True, "self_protect": True, "max_days": 10},
    "social deduction: wolves vs village with night powers, discussion and votes", players="5-9",
    information="imperfect", dynamics="simultaneous", chance=True, utility="team", analyses=(team_tables,),
    win="your team (village or wolves) winning")}
