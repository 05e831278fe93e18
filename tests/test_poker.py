"""Poker: hold'em on pokerkit (chips, showdowns, hidden cards, text actions, PHH), Kuhn and
Leduc (chance nodes, CFR), baselines, duplicate analysis."""

from __future__ import annotations

import json
import random
import re
import time
import warnings

import pytest
from pettingzoo.test import api_test, seed_test
from pokerkit import HandHistory, NoLimitTexasHoldem, StandardHighHand
from pokerkit.state import (
    BoardDealing,
    CardBurning,
    CheckingOrCalling,
    ChipsPushing,
    CompletionBettingOrRaisingTo,
    Folding,
    HoleDealing,
)

from arena.agents.base import Decision, Turn
from arena.agents.poker_bots import TightAggressive, holdem_equity, solve
from arena.export.phh import export_phh
from arena.games.base import CHANCE, IllegalAction
from arena.games.env import ArenaEnv
from arena.games.poker.duplicate import duplicate_leaderboard
from arena.games.poker.holdem import AUTOMATIONS, HoldemState
from arena.games.poker.limit import KuhnState, LeducState
from arena.match import play_match
from arena.registry import parse_agent, parse_game
from arena.trajectory import Player

CARD = re.compile(r"\b[2-9TJQKA][cdhs]\b")


def random_holdem(rng: random.Random, match: int, hands: int) -> HoldemState:
    """A random table of 2-6 short, unequal stacks (all-ins and side pots), played by random agents."""
    n = 2 + match % 5
    stacks = "/".join(str(rng.randint(1, 60)) for _ in range(n))
    state = HoldemState(seed=match, players=n, hands=hands, stacks=stacks, carry_stacks=bool(match % 2))
    while not state.is_terminal():
        p = state.to_move()[0]
        state.apply(p, rng.choice(state.legal_actions(p)))
    return state


@pytest.mark.slow
def test_chips_are_conserved_over_10000_random_hands() -> None:
    rng = random.Random(0)
    hands = side_pots = all_ins = showdowns = 0
    start, cpu = time.perf_counter(), time.process_time()
    match = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. pokerkit's "card not recommended to be dealt"
        while hands < 10_000:
            state = random_holdem(rng, match, 50)
            match += 1
            for record in state.records:
                assert sum(record.payoffs) == 0
                assert all(record.starting[s] + record.payoffs[s] >= 0 for s in range(state.num_players))
                side_pots += any(isinstance(op, ChipsPushing) and op.pot_index > 0 for op in record.ops)
                all_ins += any(e[0] != "board" and len(e) > 4 and e[4] for e in record.events)
                showdowns += record.showdown
            assert sum(state.net) == 0
            if state.carry:
                assert sum(state.chips) == sum(state.start) and min(state.chips) >= 0
            hands += len(state.records)
    print(f"\n{hands} hands, {side_pots} with side pots, {all_ins} with all-ins, {showdowns} showdowns: "
          f"{time.perf_counter() - start:.1f}s wall, {time.process_time() - cpu:.1f}s CPU")
    assert side_pots > 500 and all_ins > 3000 and showdowns > 3000


def _replay_in_pokerkit(state: HoldemState, record) -> NoLimitTexasHoldem:
    """The hand's deals and actions applied to a fresh, plain pokerkit state."""
    pk = NoLimitTexasHoldem.create_state(AUTOMATIONS, True, state.ante, (state.sb, state.bb), state.bb,
                                         [record.starting[s] for s in record.order], len(record.order))
    for op in record.ops:
        if isinstance(op, HoleDealing):
            pk.deal_hole(op.cards)
        elif isinstance(op, CardBurning):
            pk.burn_card(op.card)
        elif isinstance(op, BoardDealing):
            pk.deal_board(op.cards)
        elif isinstance(op, Folding):
            pk.fold()
        elif isinstance(op, CheckingOrCalling):
            pk.check_or_call()
        elif isinstance(op, CompletionBettingOrRaisingTo):
            pk.complete_bet_or_raise_to(op.amount)
    return pk


@pytest.mark.slow
def test_showdowns_agree_with_pokerkit_on_every_hand() -> None:
    rng = random.Random(1)
    hands = checked_winners = match = 0
    while hands < 2000:
        state = random_holdem(rng, match, 50)
        match += 1
        for record in state.records:
            hands += 1
            pk = _replay_in_pokerkit(state, record)
            assert not pk.status
            assert [pk.payoffs[i] for i in range(len(record.order))] == [record.payoffs[s] for s in record.order]
            if not record.showdown:
                continue
            # the main pot goes to the best hand(s) among the cards shown, by pokerkit's evaluator
            shown = {s: StandardHighHand.from_game("".join(c), "".join(record.board))
                     for s, c in enumerate(record.shown) if c}
            best = max(shown.values())
            main = next(op for op in record.ops if isinstance(op, ChipsPushing) and op.pot_index == 0)
            takers = {record.order[i] for i, amount in enumerate(main.amounts) if amount > 0}
            assert takers == {s for s, hand in shown.items() if hand == best}
            checked_winners += 1
    assert checked_winners > 500


def test_hole_cards_never_leak_into_other_players_text() -> None:
    rng = random.Random(2)
    checked = 0
    for match in range(150):
        n = 2 + match % 5
        state = HoldemState(seed=100 + match, players=n, hands=3, stacks="/".join(
            str(rng.choice([6, 20, 200])) for _ in range(n)))
        while not state.is_terminal():
            for p in range(n):
                allowed = {repr(c) for c in state.pk.get_board_cards(0)}
                allowed |= set(state.hole_cards(p))
                allowed |= {repr(c) for op in state.pk.operations
                            if type(op).__name__ == "HoleCardsShowingOrMucking" for c in op.hole_cards}
                if state.records:
                    last = state.records[-1]
                    allowed |= set(last.board) | set(last.hole[p]) | {c for cards in last.shown for c in cards}
                for text in (state.observation(p), json.dumps(state.observation_data(p))):
                    assert set(CARD.findall(text)) <= allowed
                assert not CARD.findall(state.rules_text(p))
                checked += 1
            p = state.to_move()[0]
            state.apply(p, rng.choice(state.legal_actions(p)))
    assert checked > 5000


@pytest.mark.parametrize("cls", [KuhnState, LeducState])
def test_small_pokers_hide_the_opponents_card(cls) -> None:
    """Changing the opponent's card never changes what a player sees while the hand runs."""
    rng = random.Random(3)
    for seed in range(60):
        state = cls(seed=seed, hands=2)
        while not state.is_terminal():
            if state.to_move() == [CHANCE]:
                state.sample_chance()
                continue
            for p in (0, 1):
                seen = (state.observation(p), json.dumps(state.observation_data(p)), state.rules_text(p))
                for other in set(state.ranks):
                    twin = state.clone()
                    twin.cards[1 - p] = other
                    assert (twin.observation(p), json.dumps(twin.observation_data(p)), twin.rules_text(p)) == seen
            p = state.to_move()[0]
            state.apply(p, rng.choice(state.legal_actions(p)))


def test_text_actions_are_validated_with_explanations() -> None:
    state = HoldemState(seed=0, players=2, hands=1)
    p = state.to_move()[0]  # the button (small blind) opens heads-up
    # pot after calling: 4 chips, so half-pot (raise to 4) is the min-raise and is not repeated
    assert state.legal_actions(p) == ["fold", "call", "raise min", "raise pot", "all-in"]
    assert state._amounts() == {"raise min": 4, "raise pot": 6, "all-in": 200}
    assert state.parse(p, "I'll raise to 7") == "raise to 7"
    assert state.parse(p, "bet 12") == "raise to 12"
    assert state.parse(p, "raise by 10") == "raise to 12"
    assert state.parse(p, "All in!") == "all-in"
    assert state.parse(p, "**Call**") == "call"
    assert state.parse(p, "raise pot") == "raise pot"
    assert "raise to 7" in state.legal_actions(p) and "raise to 3" not in state.legal_actions(p)
    with pytest.raises(IllegalAction, match=r"raise to 3 is below the minimum raise to 4; legal: fold, call 1, "
                                            r"raise to 4\.\.200, all-in \(raise to 200\)"):
        state.parse(p, "raise to 3")
    with pytest.raises(IllegalAction, match="more than you have"):
        state.parse(p, "raise to 1,000")
    with pytest.raises(IllegalAction, match="cannot check"):
        state.parse(p, "check")
    with pytest.raises(IllegalAction, match="does not say how much"):
        state.parse(p, "raise")
    with pytest.raises(IllegalAction, match="several actions"):
        state.parse(p, "fold or call?")
    with pytest.raises(IllegalAction, match="not a poker action"):
        state.parse(p, "hmm")
    state.apply(p, "call")
    q = state.to_move()[0]
    with pytest.raises(IllegalAction, match="no bet to fold to"):
        state.parse(q, "fold")
    assert state.parse(q, "call") == "check"


def test_free_amounts_pass_the_match_loop_and_the_env() -> None:
    class Raiser:  # one chip above the minimum raise, in free text
        def act(self, turn: Turn) -> Decision:
            low, high = turn.data["min_raise_to"], turn.data["max_raise_to"]
            return Decision(action=f"raise to {low + 1}" if low is not None and low < high else "call")

    game = parse_game("holdem:hands=2")
    traj = play_match(game.make, [Raiser(), Raiser()], [Player(0, "a", "a"), Player(1, "b", "b")], 5, "m", game.spec)
    assert "raise to 5" in [s.action for s in traj.steps] and not any(s.attempts for s in traj.steps)
    env = ArenaEnv(game.make, name="holdem")
    env.reset(seed=1)
    env.step("raise to 6")
    assert "raises to 6" in env.observe(env.agent_selection)["observation"]


EXTRA = ["holdem:players=6,hands=3", "holdem:players=3,stacks=5/40/300,carry_stacks=true,hands=20",
         "kuhn-poker:hands=4", "leduc-poker:hands=3,duplicate=true,deal_seed=7"]


@pytest.mark.parametrize("spec", EXTRA)
def test_api_and_seed_extra_specs(spec: str) -> None:
    api_test(ArenaEnv(parse_game(spec).make, name=spec), num_cycles=30)
    seed_test(lambda: ArenaEnv(parse_game(spec).make, name=spec), num_cycles=30)


def test_cfr_reaches_the_kuhn_value() -> None:
    solver = solve("kuhn-poker", 2000)
    policy = solver.average

    def value(state) -> float:  # exact expectation of the average profile, chance enumerated
        if state.is_terminal():
            return state.returns()[0]
        if state.to_move() == [CHANCE]:
            total = 0.0
            for outcome, p in state.chance_outcomes():
                child = state.clone()
                child.apply_chance(outcome)
                total += p * value(child)
            return total
        player = state.to_move()[0]
        strategy = policy[state.observation_data(player)["infoset"]]
        total = 0.0
        for action, p in strategy.items():
            child = state.clone()
            child.apply(player, action)
            total += p * value(child)
        return total

    assert abs(value(KuhnState(seed=0)) + 1 / 18) < 0.005
    assert abs(solver.value() + 1 / 18) < 0.001 and solver.exploitability() < 0.005


def test_cfr_on_leduc() -> None:
    solver = solve("leduc-poker", 300)
    assert len(solver.tree.keys) == 288  # information sets up to suit isomorphism
    assert abs(solver.value() + 0.0856) < 0.005 and solver.exploitability() < 0.01


@pytest.mark.parametrize("game,agents", [
    ("kuhn-poker:hands=20", ["cfr:iterations=300", "random"]),
    ("leduc-poker:hands=20", ["cfr:game=leduc-poker,iterations=100", "tight-aggressive"]),
    ("holdem:hands=6", ["tight-aggressive:samples=30", "calling-station"]),
    ("holdem:players=4,hands=3", ["tight-aggressive:samples=20", "calling-station", "random", "random:seed=2"]),
])
def test_baselines_play_without_illegal_moves(game: str, agents: list[str]) -> None:
    spec = parse_game(game)
    built = [parse_agent(a) for a in agents]
    players = [Player(i, a.name, a.spec) for i, a in enumerate(built)]
    traj = play_match(spec.make, [a.make() for a in built], players, 3, "m", spec.spec)
    assert traj.outcome.reason == "normal" and sum(traj.outcome.scores) == pytest.approx(0)
    assert not any(s.attempts or s.fallback for s in traj.steps)


def test_tight_aggressive_equity_and_choices() -> None:
    rng = random.Random(0)
    assert holdem_equity(["As", "Ah"], [], 1, 400, rng) == pytest.approx(0.85, abs=0.05)
    assert holdem_equity(["7c", "2d"], [], 1, 400, rng) == pytest.approx(0.35, abs=0.06)
    assert holdem_equity(["As", "Ah"], ["Ad", "Ac", "2s"], 3, 50, rng) == 1.0
    bot = TightAggressive(samples=200)
    legal = ["fold", "call", "raise min", "raise half-pot", "raise pot", "all-in"]
    strong = Turn("holdem", 0, "", "", legal, {"hole": ["Ks", "Kh"], "board": [], "opponents": 1, "to_call": 4,
                                               "pot": 8})
    weak = Turn("holdem", 0, "", "", legal, {"hole": ["7c", "2d"], "board": [], "opponents": 1, "to_call": 4,
                                             "pot": 8})
    assert bot.act(strong).action == "raise pot" and bot.act(weak).action == "fold"


def _play(game: str, agents: list[str], seed: int) -> tuple:
    spec = parse_game(game)
    built = [parse_agent(a) for a in agents]
    players = [Player(i, a.name, a.spec) for i, a in enumerate(built)]
    traj = play_match(spec.make, [a.make() for a in built], players, seed, "m", spec.spec)
    return traj, (0, spec.spec, players, traj.outcome)


def test_duplicate_deals_follow_the_seats_and_cancel_luck() -> None:
    game = "holdem:hands=10,duplicate=true,deal_seed=42"
    a, _ = _play(game, ["calling-station", "tight-aggressive:samples=20"], 1)
    b, _ = _play(game, ["tight-aggressive:samples=20", "calling-station"], 2)
    sa, sb = (parse_game(game).make(t.seed) for t in (a, b))
    for state, traj in ((sa, a), (sb, b)):
        for step in traj.steps:
            state.apply(step.player, step.action)
    assert [r.hole for r in sa.records] == [r.hole for r in sb.records]  # same cards per seat and hand
    with pytest.raises(ValueError, match="carry_stacks"):
        HoldemState(seed=0, duplicate=True, carry_stacks=True)
    results = []
    for deal in range(6):  # identical deterministic strategies in mirrored seats: exactly zero
        spec = f"holdem:hands=5,duplicate=true,deal_seed={deal}"
        results.append(_play(spec, ["calling-station", "cs2=calling-station"], deal)[1])
        results.append(_play(spec, ["cs2=calling-station", "calling-station"], deal + 100)[1])
    rows = duplicate_leaderboard(results, n_boot=200)
    assert [r["bb_per_100"] for r in rows] == [0.0, 0.0] and all(r["ci_low"] == r["ci_high"] == 0 for r in rows)
    assert rows[0]["groups"] == rows[0]["complete_groups"] == 6 and rows[0]["hands"] == 60


def test_duplicate_leaderboard_intervals() -> None:
    results = []
    for deal in range(8):
        for k, agents in enumerate((["cfr:iterations=200", "random"], ["random", "cfr:iterations=200"])):
            results.append(_play(f"kuhn-poker:hands=25,duplicate=true,deal_seed={deal}", agents, 10 * deal + k)[1])
    rows = duplicate_leaderboard(results, n_boot=500)
    assert [r["agent"] for r in rows] == ["cfr:iterations=200", "random"]
    for r in rows:
        assert r["ci_low"] <= r["bb_per_100"] <= r["ci_high"] and r["unit"] == "chip"
        assert r["mbb_per_hand"] == pytest.approx(10 * r["bb_per_100"]) and r["hands"] == 400
    assert rows[0]["bb_per_100"] == pytest.approx(-rows[1]["bb_per_100"])


def test_phh_export_reads_back_in_pokerkit_to_the_same_stacks() -> None:
    rng = random.Random(4)
    files = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(12):
            n = 2 + seed % 5
            stacks = "/".join(str(rng.randint(3, 120)) for _ in range(n))
            spec = f"holdem:players={n},hands=6,stacks={stacks},carry_stacks={str(bool(seed % 2)).lower()}"
            traj, _ = _play(spec, [f"random:seed={i}" for i in range(n - 1)] + ["calling-station"], seed)
            state = parse_game(spec).make(traj.seed)
            for step in traj.steps:
                state.apply(step.player, step.action)
            texts = export_phh(traj)
            assert len(texts) == len(state.records)
            for text, record in zip(texts, state.records):
                history = HandHistory.loads(text)
                *_, final = iter(history)
                expected = [record.starting[s] + record.payoffs[s] for s in record.order]
                assert list(final.stacks) == expected == list(history.finishing_stacks)
                assert history.players == [traj.players[s].name for s in record.order]
                files += 1
    assert files >= 40


@pytest.mark.parametrize("make", [lambda s: HoldemState(seed=s, players=2 + s % 5, hands=3, stacks="/".join(
    ["30", "200", "80", "8", "150", "60"][:2 + s % 5])), lambda s: LeducState(seed=s, hands=2),
    lambda s: KuhnState(seed=s, hands=2)])
def test_determinize_resamples_only_what_the_player_cannot_see(make) -> None:
    rng = random.Random(5)
    varied = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(25):
            state = make(seed)
            while not state.is_terminal():
                if state.to_move() == [CHANCE]:
                    state.sample_chance()
                    continue
                p = state.to_move()[0]
                det = state.determinize(p, rng)
                assert det.observation(p) == state.observation(p) and det.legal_actions(p) == state.legal_actions(p)
                varied += det.observation(1 - p) != state.observation(1 - p)
                while not det.is_terminal():  # the determinised state plays on legally
                    if det.to_move() == [CHANCE]:
                        det.sample_chance()
                        continue
                    q = det.to_move()[0]
                    det.apply(q, rng.choice(det.legal_actions(q)))
                assert sum(det.returns()) == pytest.approx(0)
                state.apply(p, rng.choice(state.legal_actions(p)))
    assert varied > 20


def test_mcts_plays_poker_on_determinisations() -> None:
    traj, _ = _play("kuhn-poker:hands=10", ["mcts:simulations=50", "random"], 1)
    assert traj.outcome.reason == "normal" and not any(s.attempts for s in traj.steps)
