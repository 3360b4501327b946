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


def ratio_cell(result: dict[str, Any], key: str = "vs_fastest_peer") -> str:
    """One ratio of a speed result for a table: 2 decimals, ``failed``, or ``-`` if absent."""
    if "failed" in result:
        return "failed"
    return f"{result[key]:.2f}" if key in result else "-"


def size_label(size: int) -> str:
    """A total size for a column heading: ``1e4`` for a power of ten, else the number."""
    exponent = len(str(size)) - 1
    return f"1e{exponent}" if size == 10**exponent else str(size)


def sweep_header(data: dict[str, Any]) -> list[str]:
    """Headings of the size-sweep table: function, shape, then one column per size."""
    return ["function", "shape", *(size_label(size) for size in data["sizes"])]


def sweep_rows(
    data: dict[str, Any], implementation: str = "celesson", key: str = "vs_fastest_peer"
) -> list[list[str]]:
    """One row per sweep case: the ratio ``key`` of ``implementation`` at every size.

    With the defaults a cell is celesson's median time as a multiple of the faster of
    the peers (below 1: faster than both); ``failed`` if it failed there, ``-`` if it
    or every peer is missing.
    """
    rows = []
    for entry in data["cases"].values():
        cells = []
        for size in data["sizes"]:
            at = entry["by_size"].get(str(size), {}).get("results", {})
            cells.append(ratio_cell(at[implementation], key) if implementation in at else "-")
        rows.append([*_row_label(entry), *cells])
    return rows


def _row_label(entry: dict[str, Any]) -> list[str]:
    """The first two cells of a sweep row: the function's label and the input shape."""
    return [FUNCTION_LABELS.get(entry["function"], entry["function"]), entry["shape"]]


#: The package's aim at every size: at most this multiple of the faster peer's time.
SPEED_TARGET = 1.5


def exp_floor(data: dict[str, Any], case: str, size: int) -> float | None:
    """One ``numpy.exp`` over ``size`` values as a multiple of the faster peer's ``case``.

    Every function of the sweep needs one exponential per value, and plain NumPy has no
    faster way to take it: a multiple above a target means that no NumPy implementation
    can meet the target in that cell on the machine that measured ``data``. ``None``
    where the exp time, celesson's time or every peer is missing.
    """
    exp_ms = data["floor"].get(str(size), {}).get("exp_median_ms")
    at = data["cases"].get(case, {}).get("by_size", {}).get(str(size), {}).get("results", {})
    celesson = at.get("celesson", {})
    if exp_ms is None or "median_ms" not in celesson or "vs_fastest_peer" not in celesson:
        return None
    return float(exp_ms / (celesson["median_ms"] / celesson["vs_fastest_peer"]))


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def exp_floor_row(data: dict[str, Any], case: str = "sigmoid (N,)") -> list[str]:
    """:func:`exp_floor` of ``case`` at every size, as a row below :func:`sweep_rows`."""
    return ["numpy.exp alone", "(N,)", *(_cell(exp_floor(data, case, s)) for s in data["sizes"])]


def exp_floor_rows(data: dict[str, Any]) -> list[list[str]]:
    """One row per sweep case, as :func:`sweep_rows`: :func:`exp_floor` at every size."""
    return [
        [*_row_label(entry), *(_cell(exp_floor(data, case, s)) for s in data["sizes"])]
        for case, entry in data["cases"].items()
    ]


def out_of_numpy_reach(data: dict[str, Any], target: float) -> list[tuple[str, int]]:
    """The ``(case, size)`` cells where one ``numpy.exp`` alone exceeds ``target``."""
    return [
        (case, size)
        for case in data["cases"]
        for size in data["sizes"]
        if (floor := exp_floor(data, case, size)) is not None and floor > target
    ]


#: Headings of the profile table (:func:`profile_rows`).
PROFILE_HEADER = ["case", "ms per call", "largest shares of the time (own time per function)"]


def profile_rows(profile: dict[str, Any], top: int = 4) -> list[list[str]]:
    """One row per profiled case: its unprofiled time and its ``top`` largest shares.

    A share is the part of the profiled time spent in a function's own lines (NumPy's
    ufunc calls included); ``celesson.`` and ``numpy.`` are left off the names.
    """
    rows = []
    for case, entry in profile["cases"].items():
        named = [f for f in entry["by_function"] if f["function"] != "other"][:top]
        shares = ", ".join(
            f"{f['function'].removeprefix('celesson.').removeprefix('numpy.')} "
            f"{100 * f['share']:.0f}%" for f in named)
        rows.append([case, f"{entry['unprofiled_ms']:.3g}", shares])
    return rows


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
