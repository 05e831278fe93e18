"""Non-transitive populations: Nash averaging and alpha-rank of the meta-game of win rates.

A rating assumes skill is one number; rock/paper/scissors agents have no such order.
Both views here read the *meta-game*: P[i, j] = observed win rate of agent i against
agent j over all seat orders (ties 1/2; 0.5 for pairs that never met).

Nash averaging (Balduzzi et al., "Re-evaluating evaluation", NeurIPS 2018). The
antisymmetric zero-sum game A = P − 1/2 has value 0; its maximum-entropy Nash
equilibrium p (unique) is found by maximising the entropy of p subject to A·p ≤ 0
(no agent gains against p), Σp = 1, p ≥ 0. Each agent's Nash rating is its expected
margin against p, (A·p)_i: 0 on the equilibrium's support, negative off it.
Redundant copies of an agent do not change it (the point of the method).

alpha-rank (Omidshafiei et al., Sci. Rep. 2019), the single-population form of
OpenSpiel's ``open_spiel.python.egt.alpharank.compute``: a population of ``m`` agents
in which a mutant strategy r invades a resident s with the Fermi fixation probability
ρ = 1 / (1 + Σ_{l=1}^{m−1} Π_{k=1}^{l} exp(−α (f_r(k) − f_s(k)))), the Markov chain over
monomorphic populations moves s → r with probability ρ/(K−1), and the ranking is its
stationary distribution. With the *local* selection model (OpenSpiel's default) the
fitnesses are f_r = P[r, s], f_s = P[s, r]; otherwise they are the expected payoffs
against the mixed population of k mutants. Defaults as OpenSpiel's: m = 50, α = 100.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from arena.tournaments.bt import WinMatrix


def meta_game(matrix: WinMatrix) -> np.ndarray:
    """P (K, K): observed win rates, 0.5 on the diagonal and for pairs that never met."""
    rate = np.where(matrix.games > 0, matrix.rate, 0.5)
    np.fill_diagonal(rate, 0.5)
    return rate


def nash_averaging(payoff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-entropy Nash p of the antisymmetric game ``payoff − payoffᵀ`` halved (A = P − 1/2 for
    win rates) and the Nash ratings A·p."""
    from scipy.optimize import linprog, minimize  # imported on use: start-up stays light
    a = (payoff - payoff.T) / 2
    k = len(a)
    if k == 1:
        return np.ones(1), np.zeros(1)
    start = linprog(np.zeros(k), A_ub=a, b_ub=np.zeros(k), A_eq=np.ones((1, k)), b_eq=[1.0],
                    bounds=[(0, 1)] * k, method="highs")
    p0 = start.x if start.success else np.full(k, 1 / k)

    def negative_entropy(p: np.ndarray) -> tuple[float, np.ndarray]:
        q = np.clip(p, 1e-300, None)
        return float(np.sum(q * np.log(q))), np.log(q) + 1

    best = minimize(negative_entropy, p0, jac=True, method="SLSQP", bounds=[(0, 1)] * k,
                    constraints=[{"type": "eq", "fun": lambda p: p.sum() - 1, "jac": lambda p: np.ones((1, k))},
                                 {"type": "ineq", "fun": lambda p: -(a @ p), "jac": lambda p: -a}],
                    options={"ftol": 1e-14, "maxiter": 500})
    p = np.clip(best.x if best.success else p0, 0, None)
    p /= p.sum()
    return p, a @ p


def fixation(payoff: np.ndarray, r: int, s: int, m: int, alpha: float, local: bool) -> float:
    """Probability that one mutant playing r takes over a population of m − 1 playing s."""
    k = np.arange(1, m)
    if local:
        diff = np.full(m - 1, payoff[r, s] - payoff[s, r])
    else:
        f_r = ((k - 1) * payoff[r, r] + (m - k) * payoff[r, s]) / (m - 1)
        f_s = ((m - k - 1) * payoff[s, s] + k * payoff[s, r]) / (m - 1)
        diff = f_r - f_s
    log_terms = np.cumsum(-alpha * diff)
    return float(np.exp(-np.logaddexp(0.0, np.logaddexp.reduce(log_terms))))


def alpha_rank(payoff: np.ndarray, alpha: float = 100.0, m: int = 50, local: bool = True) -> np.ndarray:
    """Stationary distribution (K,) of the single-population alpha-rank chain of ``payoff[i, j]``
    (payoff of strategy i against j)."""
    k = len(payoff)
    if k == 1:
        return np.ones(1)
    c = np.zeros((k, k))
    for s in range(k):
        for r in range(k):
            if r != s:
                c[s, r] = fixation(payoff, r, s, m, alpha, local) / (k - 1)
        c[s, s] = 1 - c[s].sum()
    system = c.T - np.eye(k)
    system[-1] = 1.0
    rhs = np.zeros(k)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(system, rhs, rcond=None)[0]
    pi = np.clip(pi, 0, None)
    return pi / pi.sum()


def contradictions(matrix: WinMatrix, ratings: dict[str, float]) -> list[str]:
    """Pairs where the rating order contradicts the win-rate matrix: the higher-rated agent's
    Wilson 95% interval of its win rate against the lower-rated one lies below 1/2."""
    out = []
    agents = matrix.agents
    for i, a in enumerate(agents):
        for j, b in enumerate(agents):
            if i != j and matrix.games[i, j] > 0 and ratings.get(a, 0) > ratings.get(b, 0) and matrix.high[i, j] < 0.5:
                out.append(f"{a} is rated above {b} but wins only {matrix.rate[i, j]:.0%} of their "
                           f"{matrix.games[i, j]:.0f} games (95% CI {matrix.low[i, j]:.0%}–{matrix.high[i, j]:.0%})")
    return out


def metagame_views(matrix: WinMatrix, ratings: dict[str, float]) -> dict[str, Any]:
    """Nash averaging and alpha-rank beside the ratings, and the contradictions (JSON-ready):
    ``{"nash": [{agent, mass, rating}], "alpharank": [{agent, mass}], "contradictions": [str]}``."""
    payoff = meta_game(matrix)
    mass, nash = nash_averaging(payoff)
    pi = alpha_rank(payoff)
    agents = matrix.agents
    return {"nash": sorted(({"agent": a, "mass": round(float(mass[i]), 4), "rating": round(float(nash[i]), 4)}
                            for i, a in enumerate(agents)), key=lambda r: (-r["rating"], -r["mass"], r["agent"])),
            "alpharank": sorted(({"agent": a, "mass": round(float(pi[i]), 4)} for i, a in enumerate(agents)),
                                key=lambda r: (-r["mass"], r["agent"])),
            "contradictions": contradictions(matrix, ratings)}
