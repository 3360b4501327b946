"""celesson.plotting: every figure is shown sharp and with a description a reader can use."""

from __future__ import annotations

import struct

import pytest

from celesson import plotting


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR), read independently of matplotlib."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


GOOD = {
    "alt": "A line falling from the top left to the bottom right of the plot.",
    "caption": "A falling line.",
    "name": "fig-falling-line",
}


def test_png_has_165_pixels_per_inch_of_figure() -> None:
    fig, ax = plotting.figure(1, 1, width=4.0, height=2.0)
    ax.plot([0, 1], [1, 0])
    # 4 x 2 inches at 165 dpi: 660 x 330 pixels, 1.5 per CSS pixel of the 440 px shown
    assert png_size(plotting.png_bytes(fig)) == (660, 330)


def test_figure_metadata_accepts_a_real_description() -> None:
    assert plotting.figure_metadata(**GOOD) == GOOD


@pytest.mark.parametrize(
    "alt",
    [
        "../../_images/af5e62a1b2c3.png",  # what the book showed before figures were described
        "plot.png shows the loss against the probability",
        "A plot",  # too short to say what it shows
        "",
    ],
)
def test_alt_text_that_says_nothing_is_rejected(alt: str) -> None:
    with pytest.raises(ValueError, match="alt"):
        plotting.figure_metadata(**{**GOOD, "alt": alt})


def test_bad_caption_and_name_are_rejected() -> None:
    with pytest.raises(ValueError, match="caption"):
        plotting.figure_metadata(**{**GOOD, "caption": "  "})
    for name in ("falling-line", "fig_falling", "fig-Falling", "fig-"):
        with pytest.raises(ValueError, match="name"):
            plotting.figure_metadata(**{**GOOD, "name": name})
    with pytest.raises(TypeError, match="alt"):
        plotting.figure_metadata(**{**GOOD, "alt": 3})  # type: ignore[arg-type]


def test_show_stores_the_description_and_the_display_width(monkeypatch) -> None:
    published = []
    ipython_display = pytest.importorskip("IPython.display")
    monkeypatch.setattr(
        ipython_display, "display", lambda data, metadata, raw: published.append((data, metadata))
    )
    fig, ax = plotting.figure(1, 1, width=6.0, height=3.0)
    ax.plot([0, 1], [0, 1])
    plotting.show(fig, **GOOD)
    [(data, metadata)] = published
    assert set(data) == {"image/png"}  # no text repr
    assert metadata[plotting.FIGURE_METADATA_KEY] == GOOD
    assert metadata["image/png"] == {"width": 660}  # 6 in x 110 CSS px per inch
    assert png_size(data["image/png"])[0] == 990  # 1.5 pixels per CSS pixel


def test_show_requires_a_description() -> None:
    fig, _ = plotting.figure()
    with pytest.raises(TypeError):
        plotting.show(fig)  # type: ignore[call-arg]
