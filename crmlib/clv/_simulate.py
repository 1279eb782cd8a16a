"""Simulate BTYD summaries from known parameters (for tests, benchmarks and teaching).

Each simulator draws the individual-level latent traits from the mixing distributions and
then the customer's summary directly, without simulating every purchase: with N(T) Poisson
purchases uniformly placed in the observed window, the time of the x-th of them is the window
length times a Beta(x, N - x + 1) variable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlib.utils.validation import check_random_state

__all__ = ["simulate_bgnbd", "simulate_gammagamma", "simulate_paretonbd"]


def _times(T: Any, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()


def _recency(rng: np.random.Generator, x: np.ndarray, n_total: np.ndarray,
             window: np.ndarray) -> np.ndarray:
    rec = np.zeros(len(x))
    pos = x > 0
    rec[pos] = window[pos] * rng.beta(x[pos], n_total[pos] - x[pos] + 1)
    return rec


def simulate_bgnbd(
    n: int, *, r: float, alpha: float, a: float, b: float, T: Any,
    modified: bool = False, random_state: Any = None,
) -> pd.DataFrame:
    """Summaries of ``n`` customers from the BG/NBD (or, ``modified``, the MBG/NBD) model.

    ``T`` is a scalar or an array of ``n`` customer ages. Returns frequency, recency, T.
    """
    rng = check_random_state(random_state)
    T = _times(T, n)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    # repeat purchases made before dropping out: geometric on {1, 2, ...} (BG/NBD), or on
    # {0, 1, ...} when a dropout can happen right after the first purchase (MBG/NBD)
    k = rng.geometric(p) - (1 if modified else 0)
    n_total = rng.poisson(lam * T)
    x = np.minimum(n_total, k)
    rec = _recency(rng, x, n_total, T)
    return pd.DataFrame({"frequency": x.astype(np.int64), "recency": rec, "T": T})


def simulate_paretonbd(
    n: int, *, r: float, alpha: float, s: float, beta: float, T: Any,
    random_state: Any = None,
) -> pd.DataFrame:
    """Summaries of ``n`` customers from the Pareto/NBD model (frequency, recency, T)."""
    rng = check_random_state(random_state)
    T = _times(T, n)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    mu = rng.gamma(s, 1.0 / beta, size=n)
    window = np.minimum(rng.exponential(1.0 / mu), T)
    x = rng.poisson(lam * window)
    rec = _recency(rng, x, x, window)
    return pd.DataFrame({"frequency": x.astype(np.int64), "recency": rec, "T": T})


def simulate_gammagamma(
    frequency: Any, *, p: float, q: float, gamma: float, random_state: Any = None
) -> np.ndarray:
    """Mean transaction value of customers with the given ``frequency`` (0 where x = 0)."""
    rng = check_random_state(random_state)
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1.0 / gamma, size=x.shape)
    total = rng.gamma(np.maximum(p * x, 1e-300), 1.0 / nu)
    return np.where(x > 0, total / np.maximum(x, 1), 0.0)


def example_orders(n_customers: int = 300, *, start: str = "2023-01-01", days: int = 730,
                   random_state: Any = 0) -> pd.DataFrame:
    """A small orders table from a BG/NBD process with Gamma-Gamma spend (for examples).

    Customers make their first purchase in the first half of the ``days`` window; each buys
    at a Poisson rate (Gamma-mixed, a purchase every 30 days on average) and drops out after
    a purchase with a Beta-mixed probability (mean 0.2). Columns ``customer_id``,
    ``ordered_at``, ``amount`` (the orders table of the data contract).
    """
    rng = check_random_state(random_state)
    first = rng.uniform(0, days / 2, size=n_customers)
    lam = rng.gamma(1.0, 1.0 / 30.0, size=n_customers)
    p = rng.beta(1.0, 4.0, size=n_customers)
    spend = rng.gamma(4.0, 1.0 / rng.gamma(6.0, 1.0 / 150.0, size=n_customers))
    rows = [(i, first[i]) for i in range(n_customers)]
    t, alive = first.copy(), np.ones(n_customers, dtype=bool)
    while alive.any():
        alive &= rng.uniform(size=n_customers) >= p
        t = t + rng.exponential(1.0 / lam)
        alive &= t < days
        rows.extend((i, t[i]) for i in np.flatnonzero(alive))
    cid, when = (np.array(v) for v in zip(*rows, strict=True))
    return pd.DataFrame({
        "customer_id": [f"c{i:04d}" for i in cid],
        "ordered_at": pd.Timestamp(start) + pd.to_timedelta(np.floor(when), unit="D"),
        "amount": np.round(rng.gamma(4.0, spend[cid] / 4.0), 2),
    }).sort_values(["ordered_at", "customer_id"], ignore_index=True)
