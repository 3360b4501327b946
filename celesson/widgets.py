"""Interactive figures that work with no kernel: in a notebook and in the static book.

The widgets are plain HTML with a few lines of JavaScript. Every number they
show is computed here in Python by :mod:`celesson` and embedded as a table; the
script only looks values up and draws them, so the browser never re-implements
a loss.
"""

from __future__ import annotations

import html
import json
import re

import numpy as np

from .losses import binary_cross_entropy

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

_TEMPLATE = """
<div class="celesson-widget" id="{id}-box" style="max-width:560px;font-family:inherit;
  border:1px solid #ccd;border-radius:8px;padding:12px 16px;margin:0.5em 0">
  <div style="display:flex;flex-wrap:wrap;gap:14px;align-items:center">
    <label for="{id}-slider">predicted probability of class 1,
      <i>p</i> = <b><output id="{id}-p">{p0}</output></b></label>
    <input type="range" id="{id}-slider" min="{lo}" max="{hi}" step="1" value="{i0}"
      aria-label="predicted probability p" style="flex:1;min-width:200px">
  </div>
  <div style="margin-top:6px" role="radiogroup" aria-label="true label">
    true label:
    <label><input type="radio" name="{id}-y" id="{id}-y1" value="1" checked> y = 1</label>
    <label><input type="radio" name="{id}-y" id="{id}-y0" value="0"> y = 0</label>
  </div>
  <svg id="{id}-svg" viewBox="0 0 {w} {h}" width="100%" role="img"
    aria-label="cross-entropy loss against the predicted probability">
    <line x1="{x0}" y1="{yb}" x2="{x1}" y2="{yb}" stroke="#555"/>
    <line x1="{x0}" y1="{yt}" x2="{x0}" y2="{yb}" stroke="#555"/>
    {ticks}
    <path id="{id}-curve" fill="none" stroke="{color}" stroke-width="2.5" d=""/>
    <circle id="{id}-dot" r="6" fill="{dot}" cx="0" cy="0"/>
  </svg>
  <div id="{id}-readout" aria-live="polite" style="font-size:1.1em">loss</div>
</div>
<script>
(function () {{
  const T = {table};
  const box = document.getElementById("{id}-box");
  if (!box || box.dataset.ready) return;
  box.dataset.ready = "1";
  const slider = document.getElementById("{id}-slider");
  const pOut = document.getElementById("{id}-p");
  const read = document.getElementById("{id}-readout");
  const curve = document.getElementById("{id}-curve");
  const dot = document.getElementById("{id}-dot");
  const sx = (p) => {x0} + (p - T.p[0]) / (T.p[T.p.length - 1] - T.p[0]) * ({x1} - {x0});
  const sy = (v) => {yb} - Math.min(v, T.ymax) / T.ymax * ({yb} - {yt});
  const label = () => document.getElementById("{id}-y0").checked ? 0 : 1;
  function path(y) {{
    const L = y === 1 ? T.loss1 : T.loss0;
    return T.p.map((p, i) => (i ? "L" : "M") + sx(p).toFixed(1) + " " + sy(L[i]).toFixed(1))
      .join(" ");
  }}
  function update() {{
    const i = Number(slider.value) - {lo};
    const y = label();
    const L = (y === 1 ? T.loss1 : T.loss0)[i];
    pOut.textContent = T.ptext[i];
    curve.setAttribute("d", path(y));
    dot.setAttribute("cx", sx(T.p[i]).toFixed(1));
    dot.setAttribute("cy", sy(L).toFixed(1));
    read.textContent = (y === 1 ? "loss = \u2212ln p = " : "loss = \u2212ln(1 \u2212 p) = ")
      + T.ltext[y][i] + (L > T.big ? "  (confident and wrong: large penalty)" : "");
  }}
  slider.addEventListener("input", update);
  box.querySelectorAll('input[type="radio"]').forEach((r) => r.addEventListener("change", update));
  update();
}})();
</script>
"""


def loss_explorer_html(
    *, widget_id: str = "ce", steps: int = 1000, p0: float = 0.7, y_max: float = 7.0
) -> str:
    r"""HTML for the "drag the predicted probability" example of chapter 1.

    A slider sets the predicted probability :math:`p` on the grid
    :math:`p_i = i/\text{steps}`, :math:`i = 1, \dots, \text{steps}-1`; a radio
    button sets the true label :math:`y`. The readout shows the binary
    cross-entropy :math:`-[y \ln p + (1-y) \ln(1-p)]` and a dot moves along
    its curve. The losses are computed by
    :func:`celesson.losses.binary_cross_entropy` and embedded in the page.

    Parameters
    ----------
    widget_id : str, default "ce"
        Prefix of the element ids (``<id>-slider``, ``<id>-readout``, ...); use a
        different one for each widget on a page.
    steps : int, default 1000
        Number of grid intervals on [0, 1], at least 4.
    p0 : float, default 0.7
        Starting probability, strictly between 0 and 1.
    y_max : float, default 7.0
        Top of the plotted loss axis (larger losses are drawn at the top).

    Returns
    -------
    str
        A self-contained HTML fragment (no external resources).
    """
    if not isinstance(widget_id, str) or not _ID.match(widget_id):
        raise ValueError(f"widget_id must be a letter followed by letters, digits, - or _, "
                         f"got {widget_id!r}")
    if int(steps) != steps or steps < 4:
        raise ValueError(f"steps must be an integer >= 4, got {steps!r}")
    if not 0.0 < p0 < 1.0:
        raise ValueError(f"p0 must lie strictly between 0 and 1, got {p0!r}")
    if not (np.isfinite(y_max) and y_max > 0):
        raise ValueError(f"y_max must be a finite positive number, got {y_max!r}")
    steps = int(steps)
    idx = np.arange(1, steps)
    p = idx / steps
    loss1 = binary_cross_entropy(p, np.ones_like(p), reduction="none")
    loss0 = binary_cross_entropy(p, np.zeros_like(p), reduction="none")
    digits = max(2, int(np.ceil(np.log10(steps))))
    table = {
        "p": [round(float(v), 6) for v in p],
        "ptext": [f"{v:.{digits}f}" for v in p],
        "loss1": [round(float(v), 6) for v in loss1],
        "loss0": [round(float(v), 6) for v in loss0],
        "ltext": {"1": [f"{v:.3f}" for v in loss1], "0": [f"{v:.3f}" for v in loss0]},
        "ymax": float(y_max),
        # above this loss the true class got less than 10 % probability
        "big": float(binary_cross_entropy(np.array([0.1]), np.array([1.0]), reduction="none")[0]),
    }
    w, h, x0, x1, yt, yb = 520, 230, 40, 505, 10, 200
    ticks = []
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = x0 + t * (x1 - x0)
        ticks.append(f'<text x="{x:.1f}" y="{yb + 18}" font-size="12" text-anchor="middle">'
                     f"{t:g}</text>")
    for v in range(0, int(y_max) + 1, 2):
        y = yb - v / y_max * (yb - yt)
        ticks.append(f'<text x="{x0 - 8}" y="{y + 4:.1f}" font-size="12" text-anchor="end">'
                     f"{v}</text>")
    i0 = int(np.clip(round(p0 * steps), 1, steps - 1))
    return _TEMPLATE.format(
        id=html.escape(widget_id),
        p0=f"{i0 / steps:.{digits}f}",
        lo=1,
        hi=steps - 1,
        i0=i0,
        w=w, h=h, x0=x0, x1=x1, yt=yt, yb=yb,
        ticks="\n    ".join(ticks),
        color="#0072B2",
        dot="#D55E00",
        table=json.dumps(table, separators=(",", ":")),
    )


def show_loss_explorer(**kwargs: object) -> None:
    """Display :func:`loss_explorer_html` in a notebook (see it for the parameters)."""
    from IPython.display import HTML, display

    display(HTML(loss_explorer_html(**kwargs)))  # type: ignore[arg-type]
