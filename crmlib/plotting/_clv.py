"""Figures for customer lifetime value models (crmlib.clv).

Each function draws on the given Axes (a new figure only when ``ax`` is None) and returns it.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["plot_calibration_holdout", "plot_frequency_fit", "plot_probability_alive_matrix"]


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        _, ax = plt.subplots()
    return ax


def plot_frequency_fit(
    data: pd.DataFrame | None = None, *, model: Any = None, summary: pd.DataFrame | None = None,
    max_frequency: int = 7, ax: Axes | None = None, **plot_kws: Any,
) -> Axes:
    """Actual vs expected number of customers by calibration frequency (fit histogram).

    ``data`` is the frame of ``model.expected_frequency_histogram(summary)`` (columns
    frequency, actual, expected); or pass ``model`` and ``summary`` to compute it.
    """
    if data is None:
        data = model.expected_frequency_histogram(summary, max_frequency=max_frequency)
    ax = _axes(ax)
    pos = np.arange(len(data))
    ax.bar(pos - 0.2, data["actual"], width=0.4, label="actual", **plot_kws)
    ax.bar(pos + 0.2, data["expected"], width=0.4, label="model", **plot_kws)
    ax.set_xticks(pos, data["frequency"])
    ax.set_xlabel("repeat transactions in calibration")
    ax.set_ylabel("customers")
    ax.legend()
    return ax


def plot_calibration_holdout(
    data: pd.DataFrame | None = None, *, model: Any = None, summary: pd.DataFrame | None = None,
    frequency_col: str = "frequency", holdout_col: str = "frequency_holdout",
    duration_col: str = "duration_holdout", max_frequency: int = 7, ax: Axes | None = None,
    **plot_kws: Any,
) -> Axes:
    """Mean holdout transactions, actual and predicted, by calibration frequency.

    ``data`` holds one row per calibration frequency with columns frequency, actual,
    predicted; or pass ``model`` and a ``summary`` with the holdout columns of
    :func:`crmlib.clv.summarise` (conditional expectations over ``duration_holdout``).
    """
    if data is None:
        horizon = float(summary[duration_col].iloc[0])
        pred = model.expected_purchases(horizon, summary)
        grp = np.minimum(summary[frequency_col], max_frequency)
        data = pd.DataFrame({"frequency": grp, "actual": summary[holdout_col],
                             "predicted": np.asarray(pred)}).groupby("frequency").mean()
        data = data.reset_index()
    ax = _axes(ax)
    ax.plot(data["frequency"], data["actual"], marker="o", label="actual", **plot_kws)
    ax.plot(data["frequency"], data["predicted"], marker="s", ls="--", label="model", **plot_kws)
    ax.set_xlabel(f"repeat transactions in calibration ({max_frequency} = {max_frequency}+)")
    ax.set_ylabel("mean transactions in holdout")
    ax.legend()
    return ax


def plot_probability_alive_matrix(
    data: pd.DataFrame | None = None, *, model: Any = None, T: float | None = None,
    max_frequency: int = 20, n_recency: int = 40, ax: Axes | None = None, **plot_kws: Any,
) -> Axes:
    """Heat map of P(alive) over frequency (rows) and recency (columns) for a customer of age T.

    ``data`` is a frequency x recency matrix of probabilities; or pass ``model`` and ``T``.
    """
    if data is None:
        rec = np.linspace(0, T, n_recency)
        x, r = np.meshgrid(np.arange(max_frequency + 1), rec, indexing="ij")
        r = np.where(x == 0, 0.0, r)
        frame = pd.DataFrame({"frequency": x.ravel(), "recency": r.ravel(), "T": float(T)})
        p = np.asarray(model.probability_alive(frame)).reshape(x.shape)
        data = pd.DataFrame(p, index=np.arange(max_frequency + 1), columns=np.round(rec, 1))
    ax = _axes(ax)
    extent = (float(data.columns[0]), float(data.columns[-1]), float(data.index[-1]) + 0.5,
              float(data.index[0]) - 0.5)
    im = ax.imshow(data.to_numpy(), aspect="auto", extent=extent, vmin=0, vmax=1,
                   cmap=plot_kws.pop("cmap", "viridis"), **plot_kws)
    ax.figure.colorbar(im, ax=ax, label="P(alive)")
    ax.set_xlabel("recency (time of last purchase)")
    ax.set_ylabel("frequency (repeat purchases)")
    return ax
