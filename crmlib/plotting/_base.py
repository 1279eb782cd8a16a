"""Shared plumbing for the figure functions: axes creation and common styling."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes


def get_ax(ax: Axes | None, *, figsize: tuple[float, float] = (8, 4)) -> Axes:
    """Return ``ax``, or the axes of a new figure when ``ax`` is None (never ``plt.gca()``)."""
    if ax is not None:
        return ax
    _, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return new_ax


#: The Okabe-Ito palette (Okabe & Ito 2008): eight colours told apart under every common
#: colour-vision deficiency; black last. Status is never carried by colour alone.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442",
             "#000000"]
