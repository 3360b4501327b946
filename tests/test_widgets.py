"""The kernel-free loss explorer of chapter 1 embeds losses computed by celesson."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from celesson.widgets import loss_explorer_html


def _table(html: str) -> dict:
    match = re.search(r"const T = (\{.*?\});\n", html)
    assert match, "the widget must embed its table as a JSON object"
    return json.loads(match.group(1))


def test_embedded_losses_are_the_binary_cross_entropy() -> None:
    table = _table(loss_explorer_html(steps=10))
    p = np.array(table["p"])
    np.testing.assert_allclose(p, np.arange(1, 10) / 10, rtol=0, atol=1e-15)
    np.testing.assert_allclose(table["loss1"], -np.log(p), rtol=0, atol=5e-7)
    np.testing.assert_allclose(table["loss0"], -np.log1p(-p), rtol=0, atol=5e-7)
    # the text the reader sees for p = 0.2, y = 1 is -ln 0.2 = 1.609...
    assert table["ltext"]["1"][1] == "1.609"
    assert table["ltext"]["0"][1] == "0.223"
    assert table["big"] == pytest.approx(np.log(10.0), rel=1e-15)


def test_ids_are_prefixed_and_start_value_is_on_the_grid() -> None:
    html = loss_explorer_html(widget_id="w2", steps=100, p0=0.25)
    for suffix in ("slider", "readout", "p", "curve", "dot", "y0", "y1", "box"):
        assert f'id="w2-{suffix}"' in html
    assert 'value="25"' in html and 'min="1"' in html and 'max="99"' in html
    assert "http" not in html, "the widget must not load anything from outside the page"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"widget_id": "1abc"}, "widget_id"),
        ({"widget_id": 'x"><script>'}, "widget_id"),
        ({"steps": 3}, "steps"),
        ({"steps": 10.5}, "steps"),
        ({"p0": 1.0}, "p0"),
        ({"p0": 0.0}, "p0"),
        ({"y_max": float("nan")}, "y_max"),
        ({"y_max": -1.0}, "y_max"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        loss_explorer_html(**kwargs)
