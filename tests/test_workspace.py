"""The learner's path: ``make workspace`` and ``make self-grade``.

- ``make workspace`` writes the student copy of every chapter's exercises (the release
  pipeline's, no solution and no hidden test in it) and the lesson, for every chapter
  found under ``chapters/``;
- a second run leaves a notebook the learner changed alone and says so in one line,
  adds what is missing, and ``RESET=<chapter>`` restores one chapter, keeping a backup;
- ``make self-grade`` grades the workspace through ``tools/grade.py`` with the hidden
  tests: a right answer gets every point, an answer that passes the visible tests but
  not the hidden ones loses the hidden points, an untouched exercise is "not attempted";
  ``workspace/self-grade.csv`` has a row for every exercise of every chapter whose
  maximum is the sum of the master's test-cell points (hidden ones included), and the
  feedback page shows a hidden test's message.

One self-grade run of a whole workspace serves every check of it.
"""

from __future__ import annotations

import csv
import re
import subprocess
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

from _nbgrader_common import (  # noqa: E402
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    EXERCISES_NAME,
    LESSON_NAME,
    exercise_notebooks,
    fill_stubs,
    grade_id,
    is_graded,
    is_solution,
    lesson_notebooks,
    nbgrader_meta,
    read,
    solution_texts,
)

CHAPTERS = sorted({p.parent.name for p in [*exercise_notebooks(ROOT), *lesson_notebooks(ROOT)]})
FIRST = exercise_notebooks(ROOT)[0].parent.name
_EXERCISE = re.compile(r"(?:^|_)(ex\d+)(?:_|$)")


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    """``make`` in the checkout; ``-o`` keeps it from reinstalling the environment."""
    return subprocess.run(["make", "-s", "-o", ".venv/.installed", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=600)


def _exercise(gid: str) -> str:
    match = _EXERCISE.search(gid)
    return match.group(1) if match else gid


def _maxima() -> dict[tuple[str, str], float]:
    """(chapter, exercise) -> the sum of the points of its test cells in the master."""
    top: dict[tuple[str, str], float] = defaultdict(float)
    for master in exercise_notebooks(ROOT):
        for cell in read(master).cells:
            if is_graded(cell):
                top[master.parent.name, _exercise(grade_id(cell))] += float(
                    nbgrader_meta(cell)["points"])
    return dict(top)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("learner") / "workspace"
    done = _make("workspace", f"WORKSPACE={out}")
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_workspace_holds_every_chapter_without_secrets(workspace: Path) -> None:
    for chapter in CHAPTERS:
        folder = workspace / chapter
        for name in (EXERCISES_NAME, LESSON_NAME):
            if (ROOT / "chapters" / chapter / name).exists():
                assert (folder / name).exists(), f"{chapter}/{name} missing from the workspace"
        assert not (folder / "mistakes.yml").exists()
        if (folder / EXERCISES_NAME).exists():
            text = (folder / EXERCISES_NAME).read_text("utf-8")
            assert BEGIN_HIDDEN not in text and BEGIN_SOLUTION not in text
            assert "raise NotImplementedError()" in text
        for path in folder.glob("*.ipynb"):
            nb = read(path)
            assert all(c.get("outputs", []) == [] for c in nb.cells if c.cell_type == "code")


def test_second_run_keeps_changed_notebooks_and_reset_restores(tmp_path: Path) -> None:
    out = tmp_path / "workspace"
    assert _make("workspace", f"WORKSPACE={out}").returncode == 0
    mine = out / FIRST / EXERCISES_NAME
    original = mine.read_bytes()
    nb = read(mine)
    nb.cells[0].source += "\n\nMy notes."
    nbformat.write(nb, str(mine))
    changed = mine.read_bytes()
    (out / FIRST / LESSON_NAME).unlink()

    again = _make("workspace", f"WORKSPACE={out}")
    assert again.returncode == 0, again.stderr
    kept = [line for line in again.stdout.splitlines() if line.startswith("kept")]
    assert len(kept) == 1 and f"{FIRST}/{EXERCISES_NAME}" in kept[0], again.stdout
    assert f"RESET={FIRST}" in kept[0], "the line says how to restore the chapter"
    assert mine.read_bytes() == changed, "a changed notebook must survive a second run"
    assert (out / FIRST / LESSON_NAME).exists(), "a missing file is added again"
    assert not any(line.startswith(("updated", "restored")) for line in again.stdout.splitlines())

    reset = _make("workspace", f"WORKSPACE={out}", f"RESET={FIRST}")
    assert reset.returncode == 0, reset.stderr
    assert mine.read_bytes() == original, "RESET puts the course's copy back"
    backups = list((out / ".backup" / FIRST).glob(f"*/{EXERCISES_NAME}"))
    assert [b.read_bytes() for b in backups] == [changed], "the learner's version is kept"
    bad = _make("workspace", f"WORKSPACE={out}", "RESET=no_such_chapter")
    assert bad.returncode != 0 and "unknown chapter" in bad.stdout + bad.stderr


@pytest.fixture(scope="module")
def graded(workspace: Path) -> tuple[Path, str]:
    """Answer exercise 1 of the first chapter right and exercise 2 with a catalogued mistake
    that passes the visible tests; leave everything else as released; run make self-grade."""
    chapter = FIRST
    master = {grade_id(c): c for c in read(ROOT / "chapters" / chapter / EXERCISES_NAME).cells
              if is_solution(c)}
    mistakes = yaml.safe_load((ROOT / "chapters" / chapter / "mistakes.yml").read_text("utf-8"))
    path = workspace / chapter / EXERCISES_NAME
    nb = read(path)
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in master and _exercise(gid) == "ex1":
            cell.source = fill_stubs(cell.source, solution_texts(master[gid]))
        elif gid in master and _exercise(gid) == "ex2":
            wrong = next(m for m in mistakes if m["cell"] == gid and m["hint"] == "nearly cancel")
            cell.source = fill_stubs(cell.source, [wrong["code"]])
    nbformat.write(nb, str(path))
    done = _make("self-grade", f"WORKSPACE={workspace}")
    assert done.returncode == 0, done.stdout + done.stderr
    return workspace, done.stdout


def test_self_grade_counts_every_exercise(graded: tuple[Path, str]) -> None:
    workspace, stdout = graded
    with open(workspace / "self-grade.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["chapter", "exercise", "points", "max_points"]
    top = _maxima()
    got = {(r["chapter"], r["exercise"]): (float(r["points"]), float(r["max_points"]))
           for r in rows}
    assert sorted(got) == sorted(top), "one row per exercise of every chapter"
    assert {k: v[1] for k, v in got.items()} == top, "max_points counts the hidden tests"
    hidden = {(m.parent.name, _exercise(grade_id(c))): float(nbgrader_meta(c)["points"])
              for m in exercise_notebooks(ROOT) for c in read(m).cells
              if is_graded(c) and BEGIN_HIDDEN in c.source}
    assert got[FIRST, "ex1"] == (top[FIRST, "ex1"], top[FIRST, "ex1"]), "a right answer"
    assert got[FIRST, "ex2"] == (top[FIRST, "ex2"] - hidden[FIRST, "ex2"], top[FIRST, "ex2"]), (
        "an answer that passes the visible tests only loses the hidden points")
    others = {k: v for k, v in got.items() if k not in {(FIRST, "ex1"), (FIRST, "ex2")}}
    assert all(points == 0 for points, _ in others.values())

    lines = [line for line in stdout.splitlines() if re.match(r"\S+\s+ex\d+\s", line)]
    assert len(lines) == len(top), "one printed line per exercise"
    assert re.search(rf"^{FIRST}\s+ex3\s.*not attempted", stdout, re.MULTILINE)
    assert "Traceback" not in stdout and "crash" not in stdout.lower()
    assert re.search(rf"^{FIRST}\s+ex2\s.*failed \S*hidden", stdout, re.MULTILINE), stdout


def test_feedback_page_shows_the_hidden_tests_message(graded: tuple[Path, str]) -> None:
    workspace, _ = graded
    pages = sorted((workspace / "self-grade").glob("*.html"))
    assert [p.stem for p in pages] == sorted(p.parent.name for p in exercise_notebooks(ROOT))
    text = (workspace / "self-grade" / f"{FIRST}.html").read_text("utf-8")
    assert "nearly cancel" in text, "the failing hidden test's message is on the page"


def test_a_chapter_that_cannot_be_graded_is_reported(tmp_path: Path) -> None:
    """A notebook that is no longer a notebook: its lines say why, nothing is counted
    silently as zero, and make self-grade fails."""
    chapter = tmp_path / "workspace" / FIRST
    chapter.mkdir(parents=True)
    (chapter / EXERCISES_NAME).write_text('{"cells": [', encoding="utf-8")
    done = _make("self-grade", f"WORKSPACE={tmp_path / 'workspace'}")
    assert done.returncode != 0, done.stdout
    lines = [line for line in done.stdout.splitlines() if line.startswith(FIRST)]
    exercises = {e for (c, e) in _maxima() if c == FIRST}
    assert len(lines) == len(exercises), done.stdout
    assert all("NOT GRADED: invalid notebook: not valid JSON" in line for line in lines), lines
    assert f"not graded: {FIRST}" in done.stdout
