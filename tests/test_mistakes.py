"""The catalogues of typical wrong answers: every mistake loses points, and says so.

Each ``chapters/<chapter>/mistakes.yml`` lists, for every exercise of the chapter's
master, realistic wrong answers (a YAML list of ``cell``, ``mistake``, ``code``,
``hint``, and ``region`` for a cell with several solution regions, counted from 1). Here

- every exercise has at least two catalogued mistakes, each naming a solution cell of
  the master and a hint;
- each mistake's ``code`` is typed into the student copy (made by ``tools/release.py``)
  in place of the ``raise NotImplementedError()`` of its region, the other answers are
  filled in with the reference solution, and the hidden tests are put back as grading
  does; the notebook then runs in a fresh kernel;
- the exercise loses points (one of its test cells fails), and the message of its first
  failing test cell contains the hint, so the learner is told what went wrong;
- the exercises without a mistake in that run pass all their tests (the exercises are
  independent, so one mistake cannot hide behind another).

To keep this cheap, one mistake of every exercise goes into the same copy: a chapter needs
as many runs as its longest list of mistakes. The runs are spread over two processes.
"""

from __future__ import annotations

import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

from _nbgrader_common import (  # noqa: E402
    BEGIN_SOLUTION,
    END_SOLUTION,
    exercise_notebooks,
    fill_stubs,
    grade_id,
    is_graded,
    is_solution,
    read,
    regions,
    restore_locked_cells,
    retry_kernel_start,
    solution_texts,
)

MASTERS = exercise_notebooks(ROOT)
CHAPTERS = [m.parent.name for m in MASTERS]
CATALOGUE = "mistakes.yml"
TIMEOUT_S = 60
_EXERCISE = re.compile(r"(?:^|_)(ex\d+)(?:_|$)")
KEYS = {"cell", "mistake", "code", "hint", "region"}


def exercise_of(gid: str) -> str:
    """``ch01_ex2_hidden`` -> ``ex2`` (the same rule as tools/self_grade.py)."""
    match = _EXERCISE.search(gid)
    return match.group(1) if match else gid


def catalogue(chapter: str) -> list[dict[str, Any]]:
    path = ROOT / "chapters" / chapter / CATALOGUE
    if not path.exists():
        return []
    entries = yaml.safe_load(path.read_text("utf-8")) or []
    assert isinstance(entries, list), f"{path}: a YAML list of mistakes"
    return entries


def _solution_cells(master: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {grade_id(c): c for c in master.cells if is_solution(c) and grade_id(c)}


def rounds(chapter: str) -> list[dict[tuple[str, int], dict[str, Any]]]:
    """The runs of a chapter: run r holds mistake r of every exercise that has one."""
    by_exercise: dict[str, list[dict[str, Any]]] = {}
    for entry in catalogue(chapter):
        by_exercise.setdefault(exercise_of(entry["cell"]), []).append(entry)
    count = max((len(v) for v in by_exercise.values()), default=0)
    return [{(e["cell"], int(e.get("region", 1))): e
             for entries in by_exercise.values() if r < len(entries) for e in [entries[r]]}
            for r in range(count)]


def notebook_with(chapter: str, mistakes: dict[tuple[str, int], dict[str, Any]],
                  student: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student copy with ``mistakes`` typed in, the reference elsewhere, hidden tests back."""
    master = read(ROOT / "chapters" / chapter / "exercises.ipynb")
    nb = restore_locked_cells(nbformat.from_dict(student), master)
    solutions = _solution_cells(master)
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid not in solutions:
            continue
        answers = [mistakes[gid, i + 1]["code"] if (gid, i + 1) in mistakes else text
                   for i, text in enumerate(solution_texts(solutions[gid]))]
        cell.source = fill_stubs(cell.source, answers)
    return nb


def run_notebook(nb_dict: dict[str, Any], folder: str) -> list[dict[str, Any]]:
    """Execute in a fresh kernel; per graded cell: grade_id and error (None if it passed)."""
    from nbclient import NotebookClient

    nb = nbformat.from_dict(nb_dict)
    retry_kernel_start(
        lambda: NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3", allow_errors=True,
                               resources={"metadata": {"path": folder}}).execute(),
        f"a run of {Path(folder).name}")
    results = []
    for cell in nb.cells:
        if cell.cell_type == "code" and is_graded(cell):
            error = next((o for o in cell.outputs if o.get("output_type") == "error"), None)
            message = None if error is None else f"{error['ename']}: {error['evalue']}"
            results.append({"gid": grade_id(cell), "error": message})
    return results


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple[str, int], Any]:
    """Results of every run of every chapter, two runs at a time."""
    import release  # tools/release.py

    jobs = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        for chapter in CHAPTERS:
            student = release.student_copy(ROOT / "chapters" / chapter / "exercises.ipynb")
            for number, mistakes in enumerate(rounds(chapter)):
                nb = notebook_with(chapter, mistakes, student)
                jobs[chapter, number] = pool.submit(run_notebook, dict(nb),
                                                    str(ROOT / "chapters" / chapter))
        results: dict[tuple[str, int], Any] = {}
        for key, future in jobs.items():
            try:
                results[key] = future.result()
            except Exception as exc:  # reported by the tests of that chapter
                results[key] = exc
    return results


def _cases() -> list[Any]:
    cases = []
    for chapter in CHAPTERS:
        for number, mistakes in enumerate(rounds(chapter)):
            for entry in mistakes.values():
                name = f"{chapter}-{entry['cell']}-{entry['mistake']}"
                cases.append(pytest.param(chapter, number, entry, id=name))
    return cases


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_has_two_catalogued_mistakes(chapter: str) -> None:
    master = read(ROOT / "chapters" / chapter / "exercises.ipynb")
    solutions = _solution_cells(master)
    entries = catalogue(chapter)
    assert entries, f"chapters/{chapter}/{CATALOGUE} is missing or empty"
    counts: dict[str, int] = {exercise_of(gid): 0 for gid in solutions}
    for entry in entries:
        assert set(entry) <= KEYS and {"cell", "mistake", "code", "hint"} <= set(entry), (
            f"{entry.get('mistake')!r}: keys must be {sorted(KEYS)}")
        assert entry["cell"] in solutions, f"{entry['cell']!r} is not a solution cell of the master"
        count = len(regions(solutions[entry["cell"]].source, BEGIN_SOLUTION, END_SOLUTION))
        assert 1 <= int(entry.get("region", 1)) <= count, f"{entry['mistake']!r}: no such region"
        assert str(entry["hint"]).strip(), f"{entry['mistake']!r}: empty hint"
        counts[exercise_of(entry["cell"])] += 1
    thin = {ex: n for ex, n in counts.items() if n < 2}
    assert not thin, f"exercises with fewer than two catalogued mistakes: {thin}"
    names = [(e["cell"], e["mistake"]) for e in entries]
    assert len(names) == len(set(names)), "duplicate mistakes"


@pytest.mark.parametrize(("chapter", "number", "entry"), _cases())
def test_mistake_loses_points_and_the_message_names_it(
    chapter: str, number: int, entry: dict[str, Any], outcomes: dict[Any, Any]
) -> None:
    result = outcomes[chapter, number]
    if isinstance(result, Exception):
        pytest.fail(f"the notebook could not be run: {result!r}")
    exercise = exercise_of(entry["cell"])
    mine = [r for r in result if exercise_of(r["gid"]) == exercise]
    assert mine, f"no test cell of {exercise}"
    failed = [r for r in mine if r["error"] is not None]
    assert failed, f"{entry['mistake']!r} passes every test of {exercise}: it loses no points"
    message = failed[0]["error"]
    assert entry["hint"] in message, (
        f"{entry['mistake']!r}: the first failing test ({failed[0]['gid']}) says "
        f"{message[:400]!r}, which does not contain the hint {entry['hint']!r}"
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_exercises_without_a_mistake_still_pass(chapter: str, outcomes: dict[Any, Any]) -> None:
    for number, mistakes in enumerate(rounds(chapter)):
        result = outcomes[chapter, number]
        if isinstance(result, Exception):
            pytest.fail(f"run {number} could not be run: {result!r}")
        wrong = {exercise_of(gid) for gid, _ in mistakes}
        broken = [r for r in result if exercise_of(r["gid"]) not in wrong and r["error"]]
        assert not broken, f"run {number}: exercises without a mistake fail: {broken}"
