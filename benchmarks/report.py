"""Reading the stored results and laying them out as tables (for the terminal and the book)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

#: Display names of the benchmarked functions, in table order.
FUNCTION_LABELS: dict[str, str] = {
    "sigmoid": "sigmoid",
    "log_sigmoid": "log_sigmoid",
    "softmax": "softmax",
    "log_softmax": "log_softmax",
    "logsumexp": "logsumexp",
    "bce_prob": "BCE (probabilities)",
    "bce_logits": "BCE (logits)",
    "ce": "cross-entropy",
}


def load(name: str, folder: Path = RESULTS) -> dict[str, Any]:
    """Load ``<folder>/<name>.json`` (``name`` is ``"accuracy"`` or ``"speed"``)."""
    with open(folder / f"{name}.json", encoding="utf-8") as handle:
        return json.load(handle)


def dump(data: dict[str, Any]) -> str:
    """The stored text of a result: indented JSON in a fixed key order, one trailing newline."""
    return json.dumps(data, indent=1, ensure_ascii=True) + "\n"


def format_ulp(value: float | str) -> str:
    """An error in ULP for a table: 2 digits below 10, integers below 10**4, then powers of 10."""
    if value == "inf":
        return "inf"
    v = float(value)
    if v == 0:
        return "0"
    if v < 10:
        return f"{v:.2g}"
    if v < 1e4:
        return f"{v:.0f}"
    return f"{v:.1e}".replace("e+", "e")


def accuracy_rows(data: dict[str, Any]) -> list[list[str]]:
    """One row per (function, implementation): max and median ULP, counts.

    Columns: function, implementation, max ULP, median ULP, outputs > 2 ULP,
    inf/NaN outputs, zero outputs, outputs scored.
    """
    rows = []
    for fn, entry in data["functions"].items():
        for impl, res in entry["results"].items():
            label = FUNCTION_LABELS.get(fn, fn)
            if "failed" in res:
                rows.append([label, impl, "failed", "", "", "", "", ""])
                continue
            rows.append(
                [
                    label,
                    impl,
                    format_ulp(res["max_ulp"]),
                    format_ulp(res["median_ulp"]),
                    str(res["over_2_ulp"]),
                    str(res["nonfinite"]),
                    str(res["zero"]),
                    str(res["n"]),
                ]
            )
    return rows


ACCURACY_HEADER = [
    "function",
    "implementation",
    "max ULP",
    "median ULP",
    "> 2 ULP",
    "inf/NaN",
    "zero",
    "scored",
]


def speed_rows(data: dict[str, Any]) -> list[list[str]]:
    """One row per (case, implementation): median ms, ratio to the fastest and to the floor."""
    rows = []
    for case, entry in data["cases"].items():
        for impl, res in entry.items():
            if "failed" in res:
                rows.append([case, impl, "failed", "", ""])
                continue
            rows.append(
                [
                    case,
                    impl,
                    f"{res['median_ms']:.1f}",
                    f"{res['vs_fastest']:.2f}",
                    f"{res['vs_floor']:.1f}",
                ]
            )
    return rows


SPEED_HEADER = ["case", "implementation", "median ms", "x fastest", "x copy"]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """A fixed-width text table."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown (pipe) table; repeated first-column labels are blanked for readability."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    previous = None
    for row in rows:
        cells = list(row)
        if cells[0] == previous:
            cells[0] = ""
        else:
            previous = cells[0]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
