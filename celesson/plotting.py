"""One house style for every figure in the course.

Every chapter calls :func:`use_house_style` once and shows figures with
:func:`show`, which emits the PNG alone (no ``<Figure size ...>`` text), so
stored notebook outputs stay free of reprs that would differ between runs.

:func:`show` is also the one place where a figure gets what a reader who cannot
see it needs: its alt text, its caption and its name (the target of
``{numref}``). They travel with the PNG as output metadata under
:data:`FIGURE_METADATA_KEY`; ``tools/run_notebooks.py`` copies them into the
cell metadata that myst-nb reads (``mystnb: {image: {alt}, figure: {caption,
name}}``), and ``tools/check_notebooks.py`` fails a figure without them.
"""

from __future__ import annotations

import io
import re
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.rcsetup import cycler
from matplotlib.typing import RcKeyType
from numpy.typing import NDArray

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

#: Size of a figure on the page, in CSS pixels per inch of figure size.
DISPLAY_PX_PER_INCH = 110

#: Resolution of the stored PNG: 1.5 pixels per CSS pixel, so that figures stay sharp
#: on high-density screens and in print while keeping the size on the page.
PNG_DPI = 165

#: Output-metadata key under which :func:`show` stores alt text, caption and name.
FIGURE_METADATA_KEY = "celesson/figure"

_MIN_ALT_WORDS = 6
_FILE_NAME = re.compile(r"\.(png|svg|jpe?g|gif|pdf)\b|\.\./|_images/", re.IGNORECASE)
_FIGURE_NAME = re.compile(r"^fig-[a-z0-9]+(?:-[a-z0-9]+)*$")

HOUSE_STYLE: dict[RcKeyType, Any] = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": DISPLAY_PX_PER_INCH,
    "savefig.dpi": PNG_DPI,
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
) -> tuple[Figure, Axes | NDArray[np.object_]]:
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
        The figure and the axes: one ``Axes`` for a 1 x 1 grid, otherwise an object
        array of them (as :func:`matplotlib.pyplot.subplots` returns with ``squeeze``).
    """
    if nrows < 1 or ncols < 1:
        raise ValueError(f"nrows and ncols must be >= 1, got nrows={nrows}, ncols={ncols}")
    with mpl.rc_context(HOUSE_STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def png_bytes(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes at :data:`PNG_DPI`, without a time stamp or version.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    bytes
        The same bytes for the same figure on every run.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buf.getvalue()


def check_alt_text(alt: object, *, argument: str = "alt") -> str:
    """Return ``alt`` if it is real alt text, else raise.

    Real alt text is a string of at least six words that says what the figure
    shows; a file name or path (what a renderer falls back to) is rejected.

    Parameters
    ----------
    alt : object
        The text to check.
    argument : str, default "alt"
        The argument's name, for the error message.

    Returns
    -------
    str
        ``alt`` itself.

    Raises
    ------
    TypeError
        If ``alt`` is not a string.
    ValueError
        If ``alt`` is shorter than six words or looks like a file name.
    """
    if not isinstance(alt, str):
        raise TypeError(f"{argument} must be a str, got {type(alt).__name__}")
    if _FILE_NAME.search(alt):
        raise ValueError(f"{argument} must describe the figure, not name a file: {alt!r}")
    if len(alt.split()) < _MIN_ALT_WORDS:
        raise ValueError(
            f"{argument} must say what the figure shows in at least {_MIN_ALT_WORDS} words,"
            f" got {alt!r}"
        )
    return alt


def figure_metadata(*, alt: str, caption: str, name: str) -> dict[str, str]:
    """Validate and bundle the accessible description of one figure.

    Parameters
    ----------
    alt : str
        Alt text: what the figure shows, in words, for a reader who cannot see it
        (at least six words, plain text).
    caption : str
        The caption printed under the numbered figure (MyST markdown, math allowed).
    name : str
        The figure's label, ``fig-...`` in lower-case words joined by hyphens; the
        prose refers to it with ``{numref}`fig-...```.

    Returns
    -------
    dict
        ``{"alt": ..., "caption": ..., "name": ...}``.

    Raises
    ------
    TypeError
        If an argument is not a string.
    ValueError
        If ``alt`` is not real alt text, ``caption`` is empty or ``name`` is not a
        ``fig-...`` label.
    """
    check_alt_text(alt)
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a str, got {type(caption).__name__}")
    if not caption.strip():
        raise ValueError("caption must not be empty")
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if not _FIGURE_NAME.match(name):
        raise ValueError(f"name must look like 'fig-some-words', got {name!r}")
    return {"alt": alt, "caption": caption, "name": name}


def show(fig: Figure, *, alt: str, caption: str, name: str) -> None:
    """Display ``fig`` in a notebook as a PNG only, with its alt text and caption.

    The PNG is rendered at :data:`PNG_DPI` and displayed at
    :data:`DISPLAY_PX_PER_INCH` CSS pixels per inch (so it is sharp on dense
    screens); no text repr is stored. ``alt``, ``caption`` and ``name`` are checked
    by :func:`figure_metadata` and stored in the output's metadata, from which
    ``tools/run_notebooks.py`` writes the cell metadata that the book reads.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    alt : str
        Alt text: what the figure shows, in words (at least six).
    caption : str
        The caption the book prints under the figure.
    name : str
        The figure's label, for ``{numref}`` references from the prose.
    """
    from IPython.display import display

    described = figure_metadata(alt=alt, caption=caption, name=name)
    width = round(float(fig.get_figwidth()) * DISPLAY_PX_PER_INCH)
    display(
        {"image/png": png_bytes(fig)},
        metadata={"image/png": {"width": width}, FIGURE_METADATA_KEY: described},
        raw=True,
    )

