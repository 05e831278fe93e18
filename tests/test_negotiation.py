"""Negotiation games: surplus accounting, strict offers, hidden values, tactics, the critic loop."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from arena.agents.base import Turn
from arena.agents.critic import MEMORY
from arena.games.auction import AuctionState
from arena.games.bargaining import BargainingState
from arena.games.base import IllegalAction
from arena.games.deal_or_no_deal import ITEMS, DealOrNoDealState
from arena.games.ultimatum import UltimatumState
from arena.match import play_match
from arena.registry import parse_agent, parse_game
from arena.trajectory import Player
from tests.conftest import run_cli
from tests.loopback import LoopbackServer

PLAYERS = [Player(0, "seller", "s"), Player(1, "buyer", "b")]


def test_bargaining_surplus_accounting() -> None:
    state = BargainingState(seed=0)
    state.apply(0, state.parse(0, "It's a fine balloon. [OFFER $20]"))
    state.apply(1, state.parse(1, "Too much. [OFFER $10]"))
    state.apply(0, state.parse(0, "[OFFER $12.50]"))
    state.apply(1, state.parse(1, "Fine. [ACCEPT]"))
    assert state.is_terminal() and state.returns() == [4.5, 7.5]
    m = state.metrics()
    assert m["deal"] == 1 and m["deal_price"] == 12.5 and m["valid_deal"] == 1
    assert m["surplus_share"] == [pytest.approx(4.5 / 12), pytest.approx(7.5 / 12)]


def test_no_deal_after_walk_away_or_turn_limit() -> None:
    state = BargainingState(seed=0, max_turns=2)
    state.apply(0, state.parse(0, "[OFFER $19]"))
    state.apply(1, state.parse(1, "No thanks"))
    assert state.is_terminal() and state.returns() == [0.0, 0.0] and state.metrics()["deal"] == 0
    walk = BargainingState(seed=0)
    walk.apply(0, walk.parse(0, "[WALK AWAY]"))
    assert walk.is_terminal() and walk.returns() == [0.0, 0.0]


@pytest.mark.parametrize("player,text,reason", [
    (0, "[OFFER $-3]", "needs an amount like [OFFER $12.50]"),
    (0, "[OFFER twelve dollars]", "needs an amount like"),
    (0, "[OFFER $0]", "must be a positive amount"),
    (0, "[ACCEPT]", "no offer from the other side to accept"),
    (0, "[OFFER $12] [ACCEPT]", "one move per message"),
    (0, "[BUY NOW]", "is not a move here; moves: [OFFER $X], [ACCEPT], [WALK AWAY]"),
    (0, "[OFFER $5]", "cannot sell below your cost of $8.00"),
    (0, "[ACCEPT now]", "takes nothing after it"),
])
def test_offers_are_strict_and_explained(player: int, text: str, reason: str) -> None:
    with pytest.raises(IllegalAction, match=reason.replace("[", r"\[").replace("$", r"\$")):
        BargainingState(seed=0).parse(player, text)


def test_buyer_cannot_offer_above_budget() -> None:
    state = BargainingState(seed=0, buyer_budget=15)
    state.apply(0, state.parse(0, "[OFFER $20]"))
    with pytest.raises(IllegalAction, match=r"more than your budget of \$15.00"):
        state.parse(1, "[OFFER $16]")


class Talker:
    def act(self, turn: Turn) -> str:
        return "Let us talk about the weather."


def test_private_values_never_reach_the_other_side() -> None:
    game = parse_game("bargaining:seller_cost=8.37,buyer_budget=19.53,buyer_target=11.11")
    seen: dict[int, list[str]] = {0: [], 1: []}

    class Spy(Talker):
        def act(self, turn: Turn) -> str:
            seen[turn.player] += [turn.rules, turn.text, json.dumps(turn.data)]
            return super().act(turn)
    play_match(game.make, [Spy(), Spy()], PLAYERS, 1, "m")
    seller, buyer = " ".join(seen[0]), " ".join(seen[1])
    assert "8.37" in seller and "8.37" not in buyer
    assert "19.53" in buyer and "11.11" in buyer and "19.53" not in seller and "11.11" not in seller

    state = DealOrNoDealState(seed=4)
    for player in (0, 1):
        other = state.values[1 - player]
        text = state.rules_text(player) + state.observation(player) + json.dumps(state.observation_data(player))
        assert ", ".join(f"{i} {other[i]} each" for i in ITEMS) not in text
        assert ", ".join(f"{i} {state.values[player][i]} each" for i in ITEMS) in text


def deal_prices(seller: str, buyer: str, n: int = 10) -> list[float]:
    game = parse_game("bargaining")
    prices = []
    for seed in range(n):
        traj = play_match(game.make, [parse_agent(seller).make(), parse_agent(buyer).make()], PLAYERS, seed, "m")
        if traj.outcome.metrics["deal"]:
            prices.append(traj.outcome.metrics["deal_price"])
    return prices


@pytest.mark.parametrize("buyer", ["tit-for-tat-concession", "conceder", "boulware"])
def test_boulware_sells_higher_than_conceder(buyer: str) -> None:
    boulware, conceder = deal_prices("boulware", buyer), deal_prices("conceder", buyer)
    assert boulware and conceder
    assert statistics.mean(boulware) > statistics.mean(conceder)


def test_deal_or_no_deal_values_and_agreement() -> None:
    state = DealOrNoDealState(seed=7)
    for p in (0, 1):
        assert sum(state.values[p][i] * state.counts[i] for i in ITEMS) == 10
    too_many = {i: state.counts[i] + (i == "hats") for i in ITEMS}
    with pytest.raises(IllegalAction, match="more than the pool holds: hats"):
        state.parse(0, "[PROPOSE " + " ".join(f"{i}={n}" for i, n in too_many.items()) + "]")
    with pytest.raises(IllegalAction, match="missing: balls"):
        state.parse(0, "[PROPOSE books=0 hats=0]")
    mine = {i: state.counts[i] for i in ITEMS}
    mine["books"] = 0
    state.apply(0, state.parse(0, "[PROPOSE " + " ".join(f"{i}={n}" for i, n in mine.items()) + "]"))
    state.apply(1, state.parse(1, "ok [ACCEPT]"))
    books = {i: (state.counts[i] if i == "books" else 0) for i in ITEMS}
    assert state.returns() == [float(state.value(0, mine)), float(state.value(1, books))]


def test_ultimatum_and_auction_rules() -> None:
    u = UltimatumState(total=10)
    u.apply(0, "3")
    u.apply(1, "accept")
    assert u.returns() == [7.0, 3.0]
    r = UltimatumState(total=10)
    r.apply(0, "1")
    r.apply(1, "reject")
    assert r.returns() == [0.0, 0.0]
    a = AuctionState(seed=1, players=2, budget=6000)
    with pytest.raises(IllegalAction, match=r"at least the start price \$1,000"):
        a.parse(0, "bid 500")
    with pytest.raises(IllegalAction, match=r"remaining budget \$6,000"):
        a.parse(0, "bid 7000")
    a.apply(0, a.parse(0, "bid 1500"))
    a.apply(1, a.parse(1, "pass"))
    assert a.budgets == [4500, 6000] and a.returns()[0] == a.values[0][0] - 1500
    with pytest.raises(IllegalAction, match=r"remaining budget \$4,500"):
        a.parse(0, "bid 5000")


def test_critic_feedback_reaches_the_next_game() -> None:
    MEMORY.clear()
    def reply(user: str) -> str:
        return "1. Open higher. 2. Concede slowly. 3. Never reveal your cost." if "Your final score" in user \
            else "Hello [OFFER $15]"
    with LoopbackServer(reply=reply) as server:
        spec = f"coached=critic:openai/test-model:api_base={server.api_base}"
        db = Path("/tmp") / f"critic-{server.port}.db"
        proc = run_cli("run", "-g", "bargaining:max_turns=4,buyer_budget=19.53", "-a", spec, "-a", "boulware", "-n", "3",
                       "--successive", "--fixed-seats", "--json", "--db", str(db), env={"OPENAI_API_KEY": "sk-x"})
        prompts = [r.body["messages"] for r in server.requests]
    assert proc.returncode == 0, proc.stderr
    coach_calls = [m for m in prompts if "negotiation coach" in m[0]["content"]]
    assert len(coach_calls) == 3  # one critique after each of the 3 games
    # the coach sees the seller's own view (its cost), never the buyer's private budget
    assert all("$8.00" in c[1]["content"] and "19.53" not in c[1]["content"] for c in coach_calls)
    player_prompts = [m for m in prompts if "negotiation coach" not in m[0]["content"]]
    assert "Coach's advice" not in player_prompts[0][0]["content"]
    assert "Never reveal your cost" in player_prompts[-1][0]["content"]
    doc = json.loads(proc.stdout)
    assert [r["iteration"] for r in doc["iterations"]] == [1, 2, 3]
    db.unlink(missing_ok=True)


@pytest.mark.slow
def test_local_model_negotiates_offline(built: tuple[Path, float], tmp_path: Path) -> None:
    proc = run_cli("run", "-g", "bargaining:max_turns=4", "-a", "local:smollm2", "-a", "boulware", "-n", "2",
                   "--json", "--db", str(tmp_path / "n.db"), env={"HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    rows = {r["agent"]: r for r in json.loads(proc.stdout)["leaderboard"]}
    assert rows["local:smollm2"]["games"] == 2 and rows["local:smollm2"]["tokens"] > 0
