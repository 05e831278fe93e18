"""Hands/s of arena ``holdem`` (random play) vs PettingZoo's ``texas_holdem_no_limit_v6``.

All loops play uniformly random legal actions (arena: the finite menu fold / check /
call / raise min / raise half-pot / raise pot / all-in; PettingZoo: its five masked
actions fold / check-call / raise half-pot / raise pot / all-in), 100 big-blind stacks:

- arena State loop: the rules only (pokerkit underneath), matches of 100 hands;
- arena State loop + text: also builds the mover's observation text every decision
  (what an LLM agent is shown);
- arena AEC env: the PettingZoo adapter (text observation + action mask on every
  ``last()``), 100 hands per episode, and 1 hand per episode (one ``reset`` per hand, as
  PettingZoo's env plays one hand per episode);
- PettingZoo ``texas_holdem_no_limit_v6`` (rlcard engine, numpy observations), one hand
  per episode.

Rates use CPU time of this process (``time.process_time``), best of ``--repeats``, so a
busy machine disturbs them less.  Run: ``python bench/holdem_speed.py [--hands 2000]``.
"""

from __future__ import annotations

import argparse
import random
import time
import warnings
from collections.abc import Callable

from arena.games.env import ArenaEnv
from arena.games.registry import parse_game


def arena_state(players: int, hands: int, text: bool) -> int:
    game, played, match = parse_game(f"holdem:players={players},hands=100"), 0, 0
    rng = random.Random(0)
    while played < hands:
        state = game.make(match)
        match += 1
        while moving := state.to_move():
            player = moving[0]
            if text:
                state.observation(player)
            state.apply(player, rng.choice(state.legal_actions(player)))
        played += len(state.records)
    return played


def arena_aec(players: int, hands: int, per_episode: int) -> int:
    game = parse_game(f"holdem:players={players},hands={per_episode}")
    env, rng, played, episode = ArenaEnv(game.make, "holdem"), random.Random(0), 0, 0
    while played < hands:
        env.reset(seed=episode)
        episode += 1
        for _agent in env.agent_iter():
            obs, _, term, trunc, _ = env.last()
            env.step(None if term or trunc else rng.choice(obs["action_mask"].nonzero()[0].tolist()))
        played += per_episode
    return played


def pettingzoo(players: int, hands: int) -> int:
    from pettingzoo.classic import texas_holdem_no_limit_v6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = texas_holdem_no_limit_v6.env(num_players=players)
    rng, played = random.Random(0), 0
    while played < hands:
        env.reset(seed=played)
        for _agent in env.agent_iter():
            obs, _, term, trunc, _ = env.last()
            env.step(None if term or trunc else rng.choice(obs["action_mask"].nonzero()[0].tolist()))
        played += 1
    return played


def rate(fn: Callable[[], int], repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        start = time.process_time()
        done = fn()
        best = max(best, done / max(time.process_time() - start, 1e-9))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hands", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--players", type=int, nargs="+", default=[2, 6])
    args = parser.parse_args()
    for n in args.players:
        try:
            pz = rate(lambda n=n: pettingzoo(n, args.hands), args.repeats)
        except ImportError as err:  # rlcard missing
            pz = float("nan")
            print(f"PettingZoo texas_holdem_no_limit_v6 unavailable: {err} (pip install rlcard)")
        rows = [
            ("arena State loop (rules only)", rate(lambda n=n: arena_state(n, args.hands, False), args.repeats)),
            ("arena State loop + observation text", rate(lambda n=n: arena_state(n, args.hands, True), args.repeats)),
            ("arena AEC env, 100 hands/episode", rate(lambda n=n: arena_aec(n, args.hands, 100), args.repeats)),
            ("arena AEC env, 1 hand/episode", rate(lambda n=n: arena_aec(n, args.hands, 1), args.repeats)),
            ("PettingZoo texas_holdem_no_limit_v6", pz),
        ]
        print(f"\n{n} players, {args.hands} hands, random play, CPU time, best of {args.repeats}")
        print(f"{'loop':40s} {'hands/s':>10s} {'vs PettingZoo':>14s}")
        for name, value in rows:
            print(f"{name:40s} {value:10.0f} {value / pz:13.2f}x")


if __name__ == "__main__":
    main()
