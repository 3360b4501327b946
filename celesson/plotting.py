"""One house style for every figure in the course.

Every chapter calls :func:`use_house_style` once and shows figures with
:func:`show`, which emits the PNG alone (no ``<Figure size ...>`` text), so
stored notebook outputs stay free of reprs that would differ between runs.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.rcsetup import cycler
from matplotlib.typing import RcKeyType

#: Colour cycle used by every figure: colour-blind safe (Okabe-Ito order).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue: cross-entropy
    "#D55E00",  # vermilion: MSE / the naive formula
    "#009E73",  # green: targets, references
    "#CC79A7",  # purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)

#: Named roles, so that the same quantity has the same colour in every chapter.
COLORS: dict[str, str] = {
    "ce": PALETTE[0],
    "mse": PALETTE[1],
    "reference": PALETTE[2],
    "other": PALETTE[3],
    "accent": PALETTE[4],
    "light": PALETTE[5],
    "ink": PALETTE[6],
}

HOUSE_STYLE: dict[RcKeyType, Any] = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 10.5,
    "axes.titlesize": 11,
    "axes.labelsize": 10.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "lines.linewidth": 2.0,
    "legend.frameon": False,
    "svg.hashsalt": "celesson",
}


def use_house_style() -> None:
    """Switch matplotlib to the non-interactive Agg backend and the course style."""
    mpl.use("Agg", force=True)
    mpl.rcParams.update(HOUSE_STYLE)


def figure(
    nrows: int = 1, ncols: int = 1, *, width: float = 6.4, height: float = 3.6, **kwargs: Any
) -> tuple[Figure, Any]:
    """Create a figure and its axes in the house style.

    Parameters
    ----------
    nrows, ncols : int
        Grid of axes, as in :func:`matplotlib.pyplot.subplots`.
    width, height : float
        Figure size in inches.
    **kwargs
        Passed on to :meth:`matplotlib.figure.Figure.subplots`.

    Returns
    -------
    fig, axes
        The figure and the axes (a single ``Axes`` or an array of them).
    """
    if nrows < 1 or ncols < 1:
        raise ValueError(f"nrows and ncols must be >= 1, got nrows={nrows}, ncols={ncols}")
    with mpl.rc_context(HOUSE_STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def png_bytes(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes without a time stamp or version in the metadata."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def show(fig: Figure) -> None:
    """Display ``fig`` in a notebook as a PNG only (no text repr is stored)."""
    from IPython.display import display

    display({"image/png": png_bytes(fig)}, raw=True)

