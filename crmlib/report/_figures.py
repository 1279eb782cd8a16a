"""Figures on a report page: sharp (twice the resolution), small, with alt text.

:func:`use_report_figures` replaces, in a running notebook, how matplotlib figures are
turned into images: each is drawn at twice its resolution and shown at its own size (sharp
on high-density screens and in print), reduced to a 256-colour palette (a third of the
bytes for figures of flat colours and text), and carries its alt text
(:func:`crmlib.plotting.alt_text`) in the output's metadata, where the report page takes it.
Figures keep the colour-blind-safe Okabe-Ito colour cycle.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

from crmlib.plotting._alt import alt_text
from crmlib.plotting._base import OKABE_ITO

__all__ = ["figure_png", "use_report_figures"]

#: Resolution factor of the images (2: "retina").
SCALE = 2


def figure_png(fig: Any, *, scale: int = SCALE) -> tuple[bytes, dict[str, Any]]:
    """A figure as a palette PNG at ``scale`` times its resolution, with its metadata.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    scale : int, default 2
        Resolution factor; the image is shown at ``1 / scale`` of its pixel size.

    Returns
    -------
    (bytes, dict)
        The PNG and ``{"width", "height", "alt"}`` (display size in CSS pixels, alt text).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    >>> _ = ax.set_title("Empty")
    >>> png, meta = figure_png(fig)
    >>> png[:4], meta["alt"]
    (b'\\x89PNG', 'Empty. Figure.')
    >>> plt.close(fig)
    """
    from PIL import Image

    raw = io.BytesIO()
    # uncompressed TIFF: the same pixels as a PNG, without compressing them only to
    # decompress them at once (a third of the time of savefig)
    fig.savefig(raw, format="tiff", dpi=fig.dpi * scale, bbox_inches="tight",
                facecolor="white")
    image = Image.open(io.BytesIO(raw.getvalue())).convert("RGB")
    small = io.BytesIO()
    # zlib level 8: 3 % more bytes than 9 (optimize=True) in half the time
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
                   ).save(small, format="png", compress_level=8)
    width, height = image.size
    return small.getvalue(), {"width": width // scale, "height": height // scale,
                              "alt": alt_text(fig)}


def use_report_figures(*, locale: str | None = None) -> bool:
    """Show this notebook's figures as report images (see the module docstring).

    Outside IPython it does nothing. The notebooks call it through
    :func:`crmlib.report.header`.

    Parameters
    ----------
    locale : str, optional
        Unused for now; axis labels are formatted by the figure functions.

    Returns
    -------
    bool
        Whether a running IPython shell was set up.

    Examples
    --------
    >>> use_report_figures()
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return False
    shell = get_ipython()
    if shell is None:
        return False
    import matplotlib
    from matplotlib.figure import Figure

    with contextlib.suppress(ImportError):  # the inline backend registers its own first
        import matplotlib_inline.backend_inline  # noqa: F401
    matplotlib.rcParams["axes.prop_cycle"] = matplotlib.cycler(color=OKABE_ITO)
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    return True
