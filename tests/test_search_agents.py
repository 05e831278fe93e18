"""Search agents: mcts (UCT), llm-mcts (PUCT with an LLM prior), stockfish."""

from __future__ import annotations

import asyncio
import random
import time
from typing import ClassVar

import pytest

from arena.agents.backends.base import Completion, ScoringUnsupported
from arena.agents.base import Turn
from arena.agents.llm_mcts import LLMMCTSAgent, rank_utility
from arena.agents.mcts import MCTSAgent, search
from arena.agents.stockfish import StockfishAgent, find_stockfish
from arena.games.base import CHANCE, IllegalAction, State
from arena.match import play_match
from arena.registry import SpecError, parse_agent, parse_game
from arena.trajectory import Player


# --- tiny games defined here ---------------------------------------------------------
class Race(State):
    """Two players add 1 or 2 to a total; whoever reaches ``target`` wins."""

    game_id = "race"

    def __init__(self, seed: int | None = None, target: int = 10, total: int = 0) -> None:
        super().__init__(2, seed)
        self.target, self.total, self.turn, self.winner = target, total, 0, None

    def to_move(self) -> list[int]:
        return [] if self.winner is not None else [self.turn]

    def legal_actions(self, player: int) -> list[str]:
        return ["1", "2"] if self.target - self.total >= 2 else ["1"]

    def apply(self, player: int, action: str) -> None:
        self.total += int(action)
        if self.total >= self.target:
            self.winner = player
        self.turn = 1 - player

    def returns(self) -> list[float]:
        return [0.0, 0.0] if self.winner is None else [1.0 if p == self.winner else -1.0 for p in (0, 1)]

    def rules_text(self, player: int) -> str:
        return f"Add 1 or 2 to the total; reaching {self.target} wins."

    def observation(self, player: int) -> str:
        return f"Total: {self.total}"


class Gamble(State):
    """One player, one choice: 'safe' scores 1; 'gamble' is a chance node: 5 with p=0.1, else 0."""

    game_id = "gamble"

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1, seed)
        self.choice: str | None = None
        self.score: float | None = None

    def to_move(self) -> list[int]:
        if self.score is not None:
            return []
        return [CHANCE] if self.choice == "gamble" else [0]

    def legal_actions(self, player: int) -> list[str]:
        return ["safe", "gamble"]

    def apply(self, player: int, action: str) -> None:
        self.choice = action
        if action == "safe":
            self.score = 1.0

    def chance_outcomes(self) -> list[tuple[str, float]]:
        return [("jackpot", 0.1), ("nothing", 0.9)]

    def apply_chance(self, outcome: str) -> None:
        self.score = 5.0 if outcome == "jackpot" else 0.0

    def returns(self) -> list[float]:
        return [self.score or 0.0]

    def rules_text(self, player: int) -> str:
        return "safe or gamble"

    def observation(self, player: int) -> str:
        return f"choice {self.choice}"


class HighCard(State):
    """Each player holds two hidden cards of 1..6; player 0 plays one, then player 1; higher wins.

    ``determinize(player, rng)`` re-deals the cards ``player`` cannot see.
    """

    game_id = "high-card"
    determinized_for: ClassVar[list[int]] = []

    def __init__(self, seed: int | None = None, hands: tuple[list[int], list[int]] = ([5, 2], [6, 1])) -> None:
        super().__init__(2, seed)
        self.hands = [list(hands[0]), list(hands[1])]
        self.played: list[int] = []

    def to_move(self) -> list[int]:
        return [len(self.played)] if len(self.played) < 2 else []

    def legal_actions(self, player: int) -> list[str]:
        return [str(c) for c in self.hands[player]]

    def apply(self, player: int, action: str) -> None:
        if int(action) not in self.hands[player]:
            raise IllegalAction(f"you do not hold {action}")
        self.played.append(int(action))

    def returns(self) -> list[float]:
        if len(self.played) < 2:
            return [0.0, 0.0]
        a, b = self.played
        return [0.0, 0.0] if a == b else ([1.0, -1.0] if a > b else [-1.0, 1.0])

    def determinize(self, player: int, rng: random.Random) -> HighCard:
        HighCard.determinized_for.append(player)
        new = self.clone()
        unseen = [c for c in range(1, 7) if c not in self.hands[player]]
        rng.shuffle(unseen)
        new.hands[1 - player] = sorted(unseen[:2])
        return new

    def rules_text(self, player: int) -> str:
        return "high card"

    def observation(self, player: int) -> str:
        return f"your cards {self.hands[player]}, played {self.played}"


# --- mcts ------------------------------------------------------------------------------
def test_visit_counts_sum_to_simulations_and_info_has_q() -> None:
    stats = search(Race(), 0, 300, rng=random.Random(1))
    assert sum(n for n, _ in stats.values()) == 300
    agent = MCTSAgent(simulations=250, seed=3)
    state = Race(total=2)
    decision = agent.act(Turn("race", 0, "", "", ["1", "2"], state=state))
    assert sum(decision.info["visits"].values()) == 250 == decision.info["simulations"]
    assert set(decision.info["q"]) == {"1", "2"}
    assert state.total == 2 and state.winner is None  # the given state is never modified
    # from total 2 to target 10 the winning move leaves a multiple of 3 to go: 2 + 2 = 4
    assert decision.action == "2" and decision.info["q"]["2"] > 0.5 > decision.info["q"]["1"]


def test_search_is_reproducible_and_respects_a_time_budget() -> None:
    assert search(Race(), 0, 200, rng=random.Random(5)) == search(Race(), 0, 200, rng=random.Random(5))
    started = time.perf_counter()
    stats = search(Race(target=40), 0, 0, seconds=0.2, rng=random.Random(0))
    assert 0.15 < time.perf_counter() - started < 1.0 and sum(n for n, _ in stats.values()) > 50
    with pytest.raises(ValueError, match="not to move"):
        search(Race(), 1, 10)


def test_chance_nodes_are_sampled_with_their_probabilities() -> None:
    stats = search(Gamble(seed=7), 0, 2000, rng=random.Random(0))
    # expected value of the gamble is 0.5 < 1: a search that resampled nothing (a clone's rng
    # replays the same outcome) or sampled outcomes uniformly (EV 2.5) would prefer it
    assert stats["safe"][1] == 1.0
    assert 0.2 < stats["gamble"][1] < 0.9
    assert max(stats, key=lambda a: stats[a]) == "safe"


def test_determinisation_resamples_hidden_cards_per_simulation() -> None:
    HighCard.determinized_for = []
    state = HighCard()  # we hold 5 and 2; the opponent really holds 6 and 1
    stats = search(state, 0, 600, rng=random.Random(0))
    assert HighCard.determinized_for == [0] * 600
    # a search that peeked (6 beats both our cards) would value both moves at -1; over the
    # hands the opponent may hold (two of 1, 3, 4, 6) the 5 wins unless it holds the 6: Q ~ 0
    assert -0.4 < stats["5"][1] < 0.4 and stats["2"][1] < -0.8
    assert max(stats, key=lambda a: stats[a]) == "5"
    assert state.hands == [[5, 2], [6, 1]] and not state.played


def test_simultaneous_node_is_searched_as_sequential_from_the_movers_view() -> None:
    pd = parse_game("prisoners-dilemma:rounds=1").make(seed=0)
    assert pd.to_move() == [0, 1]  # both choose at once
    for player in (0, 1):
        stats = search(pd, player, 300, rng=random.Random(player))
        assert sum(n for n, _ in stats.values()) == 300
        # the searching player moves first in the tree and the other best-responds by defecting
        # (C -> 0, D -> 1), so Q tends to those values as the reply's exploration fades
        assert stats["C"][1] < 1.0 < stats["D"][1] < 2.5
        assert max(stats, key=lambda a: stats[a]) == "D"
    assert pd.to_move() == [0, 1]


def test_multiplayer_returns_each_node_valued_for_its_mover() -> None:
    pg = parse_game("public-goods:players=3,rounds=1").make(seed=0)
    stats = search(pg, 2, 3000, rng=random.Random(0))
    # contributing nothing is dominant for every player (multiplier 1.6 < 3 players)
    best = max(stats, key=lambda a: stats[a][1])
    assert int(best) <= 1


def test_rank_utility() -> None:
    assert rank_utility([1.0, -1.0]) == [1.0, 0.0]
    assert rank_utility([3.0, 3.0, 1.0]) == [0.75, 0.75, 0.0]


def test_registry_builds_search_agents() -> None:
    agent = parse_agent("mcts:simulations=50,c=0.7,seed=3").make()
    assert isinstance(agent, MCTSAgent) and agent.simulations == 50 and agent.c == 0.7 and agent.needs_state
    llm = parse_agent("llm-mcts:model=local:smollm2,simulations=8,top_k=3,llm_value=true").make()
    assert isinstance(llm, LLMMCTSAgent) and llm.top_k == 3 and llm.llm_value and llm.backend.name == "local:smollm2"
    with pytest.raises(SpecError, match="valid: allow_peeking, c, max_depth, seconds, seed, simulations"):
        parse_agent("mcts:rollouts=5")


# --- mcts against random on the board games ---------------------------------------------
def _match_scores(game: str, agents: list, seed: int, match_id: str) -> list[float]:
    spec = parse_game(game)
    players = [Player(i, f"p{i}", f"p{i}") for i in range(len(agents))]
    traj = play_match(spec.make, agents, players, seed, match_id, game=game)
    assert traj.outcome.reason == "normal"
    return traj.outcome.scores


@pytest.mark.slow
def test_mcts_beats_random_at_connect_four() -> None:
    mcts, rand = MCTSAgent(simulations=1000, seed=0), parse_agent("random:seed=0").make()
    wins = 0
    for game in range(40):
        seat = game % 2  # alternate who moves first
        agents = [mcts, rand] if seat == 0 else [rand, mcts]
        wins += _match_scores("connect-four", agents, game, f"c4-{game}")[seat] > 0
    assert wins >= 38, f"mcts won {wins}/40"


@pytest.mark.slow
def test_mcts_never_loses_tic_tac_toe_to_random() -> None:
    mcts, rand = MCTSAgent(simulations=1000, seed=1), parse_agent("random:seed=1").make()
    for game in range(50):
        seat = game % 2
        agents = [mcts, rand] if seat == 0 else [rand, mcts]
        assert _match_scores("tic-tac-toe", agents, game, f"ttt-{game}")[seat] >= 0, f"lost game {game}"


def test_mcts_decisions_land_in_the_trajectory() -> None:
    spec = parse_game("tic-tac-toe")
    traj = play_match(spec.make, [MCTSAgent(simulations=200), parse_agent("random").make()],
                      [Player(0, "m", "mcts"), Player(1, "r", "random")], 3, "ttt-info", game="tic-tac-toe")
    mine = [s for s in traj.steps if s.player == 0]
    # every simulation is spent, unless MCTS-Solver proved the root (then the move played is proven)
    assert mine and all(sum(s.info["visits"].values()) == 200 or s.action in s.info["proven"] for s in mine)
    assert all(set(s.info["q"]) <= set(s.legal_actions) for s in mine)
    assert "visits" in traj.to_json()


# --- llm-mcts ------------------------------------------------------------------------------
class FakeBackend:
    """Deterministic stand-in for an LLM: one favourite action scores 0, every other -12."""

    name = "fake"

    def __init__(self, favourite: str | None = None, value: tuple[float, float, float] = (0.0, -3.0, -3.0),
                 scoring: bool = True) -> None:
        self.favourite, self.value, self.scoring = favourite, list(value), scoring
        self.calls: list[list[str]] = []

    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int = 256, temperature: float = 0.0,
                       seed: int | None = None) -> Completion:
        return Completion(self.favourite or "1")

    async def score(self, messages: list[dict[str, str]], options: list[str]) -> list[float]:
        self.calls.append(list(options))
        if not self.scoring:
            raise ScoringUnsupported("this fake cannot score")
        if options == ["win", "draw", "lose"]:
            return list(self.value)
        return [0.0 if o == self.favourite else -12.0 for o in options]


def _ttt_turn(moves: list[str]) -> Turn:
    state = parse_game("tic-tac-toe").make(seed=0)
    for i, move in enumerate(moves):
        state.apply(i % 2, move)
    p = state.to_move()[0]
    return Turn("tic-tac-toe", p, state.rules_text(p), state.observation(p), state.legal_actions(p),
                state.observation_data(p), state=state)


WIN_AT_3 = ["1", "4", "2", "5"]  # X holds 1 2, O holds 4 5: X to move, 3 wins (and 6 would be O's win)


def test_llm_mcts_strong_prior_on_the_winning_move_finds_it_with_few_simulations() -> None:
    for simulations in (1, 2, 3):
        fake = FakeBackend(favourite="3")
        agent = LLMMCTSAgent(backend=fake, simulations=simulations)
        decision = asyncio.run(agent.aact(_ttt_turn(WIN_AT_3)))
        assert decision.action == "3" and decision.info["visits"] == {"3": simulations}
        assert decision.info["prior"]["3"] > 0.99 and set(decision.info["prior"]) == {"3", "6", "7", "8", "9"}
        assert decision.info["q"]["3"] == 1.0 and decision.info["llm_calls"] >= 1
        assert decision.messages and "Legal actions: 3, 6, 7, 8, 9" in decision.messages[-1]["content"]
    # the prior is what steers so few simulations: a strong prior elsewhere is followed too
    misled = asyncio.run(LLMMCTSAgent(backend=FakeBackend(favourite="9"), simulations=2).aact(_ttt_turn(WIN_AT_3)))
    assert misled.action == "9"


def test_llm_mcts_top_k_value_cache_and_unscorable_backends() -> None:
    fake = FakeBackend(favourite="5")
    decision = asyncio.run(LLMMCTSAgent(backend=fake, simulations=12, top_k=2, llm_value=True,
                                        prior_temperature=4.0).aact(_ttt_turn([])))
    assert len(decision.info["prior"]) == 2 and set(decision.info["visits"]) <= set(decision.info["prior"])
    assert ["win", "draw", "lose"] in fake.calls  # leaves valued by the model
    assert decision.info["llm_calls"] == len(fake.calls)
    # temperature 4 flattens exp(-12) to exp(-3): the runner-up keeps a share of the prior
    assert 0.03 < min(decision.info["prior"].values()) < 0.1
    plain = asyncio.run(LLMMCTSAgent(backend=FakeBackend(scoring=False), simulations=4).aact(_ttt_turn(WIN_AT_3)))
    assert "cannot score" in plain.info["note"] and plain.action in {"3", "6", "7", "8", "9"}
    assert all(p == pytest.approx(0.2) for p in plain.info["prior"].values())


def test_llm_mcts_caches_priors_per_position_within_a_decision() -> None:
    fake = FakeBackend()  # a flat prior: the tree branches both ways
    state = Race(target=12)  # the observation is the total alone: 1+2 and 2+1 reach the same text
    decision = asyncio.run(LLMMCTSAgent(backend=fake, simulations=40).aact(
        Turn("race", 0, state.rules_text(0), state.observation(0), state.legal_actions(0), state=state)))
    assert decision.info["cache_hits"] > 0 and decision.info["llm_calls"] == len(fake.calls)
    assert decision.info["llm_calls"] + decision.info["cache_hits"] <= 41  # one expansion per simulation + root


@pytest.mark.slow
def test_llm_mcts_plays_tic_tac_toe_with_the_embedded_model(built) -> None:
    agent = parse_agent("llm-mcts:model=local:smollm2,simulations=4,seed=1").make()
    spec = parse_game("tic-tac-toe")
    started = time.perf_counter()
    traj = play_match(spec.make, [agent, parse_agent("random").make()],
                      [Player(0, "llm-mcts", "llm-mcts"), Player(1, "r", "random")], 2, "llm-ttt", game="tic-tac-toe")
    mine = [s for s in traj.steps if s.player == 0]
    assert traj.outcome.reason == "normal" and mine and not any(s.fallback for s in mine)
    for step in mine:
        prior = step.info["prior"]
        assert set(prior) == set(step.legal_actions) and sum(prior.values()) == pytest.approx(1.0, abs=1e-3)
        assert step.info["backend"] == "local:smollm2" and step.info["llm_calls"] >= 1
    print(f"llm-mcts tic-tac-toe game: {time.perf_counter() - started:.1f}s, {len(mine)} decisions")


# --- stockfish -----------------------------------------------------------------------------
def _chess_or_skip() -> None:
    pytest.importorskip("chess", reason="python-chess is not installed")


def test_stockfish_absent_is_one_clear_line() -> None:
    _chess_or_skip()
    with pytest.raises(SpecError, match=r"agent stockfish: stockfish not found: apt-get install stockfish$"):
        parse_agent("stockfish:path=/nonexistent/stockfish").make()


needs_stockfish = pytest.mark.skipif(find_stockfish() is None,
                                     reason="stockfish not installed (apt-get install stockfish)")


@needs_stockfish
def test_stockfish_answers_legal_uci_from_the_state_or_a_fen() -> None:
    _chess_or_skip()
    state = parse_game("chess").make(seed=0)
    agent = StockfishAgent(skill=3, movetime=0.05)
    try:
        turn = Turn("chess", 0, "", state.observation(0), state.legal_actions(0), state.observation_data(0),
                    state=state.clone())
        decision = agent.act(turn)
        assert decision.action in state.legal_actions(0) and len(decision.action) in (4, 5)
        fen = "6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1"  # back-rank mate in one
        decision = agent.act(Turn("chess", 0, "", "", None, {"fen": fen}))
        assert decision.action == "a1a8"
    finally:
        agent.close()


@needs_stockfish
def test_stockfish_beats_random_at_chess() -> None:
    _chess_or_skip()
    for game in range(2):
        agent = parse_agent("stockfish:movetime=0.02").make()
        seat = game % 2
        agents = [agent, parse_agent("random").make()] if seat == 0 else [parse_agent("random").make(), agent]
        try:
            assert _match_scores("chess", agents, game, f"sf-{game}")[seat] > 0
        finally:
            agent.close()
