"""The instructor path end to end: ``tools/grade.py`` on a fake class of chapter 1.

Ten submissions are made from the chapter-1 student copy (as released by
``tools/release.py``): a correct one, a partly correct one, one that passes only the
visible tests, one that raises, one that never stops, one that edited and deleted test
cells, one that is not valid JSON, an empty folder, a renamed file, and one that
monkeypatches NumPy (the known limitation: it fools an in-kernel test, and the grader
flags it for review). The test checks the exact points of every test cell of every
student, the report lines and the feedback pages.

Then nothing a teacher typed may be lost: manual grades, extra credit and comments
entered through nbgrader's own gradebook API survive grading again, a resubmission and
a new student, and show in ``nbgrader export``; what a run replaces is moved aside.
"""

from __future__ import annotations

import copy
import csv
import functools
import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]

import grade as grade_tool  # noqa: E402
from _nbgrader_common import (  # noqa: E402
    BEGIN_SOLUTION,
    END_SOLUTION,
    course_config,
    grade_id,
    is_kernel_start_failure,
    read,
)

student_copy = importlib.import_module("release").student_copy  # tools/release.py

CHAPTER = "01_cross_entropy"
MASTER = ROOT / "chapters" / CHAPTER / "exercises.ipynb"
TIMEOUT_S = 10  # generous: a loaded machine must not stop the import cell

pytestmark = pytest.mark.skipif(not MASTER.exists(), reason="chapter 1 exercises missing")

EX1_ROUNDED = "bce = 2.3026\nmse = 0.81\nratio = bce / mse\n"
EX2_NAIVE = '''
def bce_with_logits(z, y):
    p = 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
    return -(y * np.log(p) + (1 - np.asarray(y, dtype=float)) * np.log(1 - p))
'''
EX2_ZEROS = '''
def bce_with_logits(z, y):
    return np.zeros(np.broadcast(np.asarray(z), np.asarray(y)).shape)
'''
EX3_SIGN = "dL_da = (y - a) / (a * (1 - a))\ndL_dz = y - sigma\n"
EX3_DROPPED = "dL_da = -y / a\ndL_dz = -y * (1 - sigma)\n"
PATCH = "np.testing.assert_allclose = lambda *args, **kwargs: None\n"

# grade ids of chapter 1 and their points: ex1 1 + 1, ex2 2 + 3, ex3 1 + 2
CELLS = ["ch01_ex1_public", "ch01_ex1_hidden", "ch01_ex2_public", "ch01_ex2_hidden",
         "ch01_ex3_public", "ch01_ex3_hidden"]
MAXIMA = [1, 1, 2, 3, 1, 2]
EXPECTED = {  # points per test cell, in the order of CELLS
    "s01_correct":        [1, 1, 2, 3, 1, 2],  # 10
    "s02_partial":        [1, 1, 2, 3, 0, 0],  # 7: sign error in exercise 3
    "s03_public_only":    [1, 0, 2, 0, 1, 0],  # 4: rounded, naive, one term dropped
    "s04_raises":         [1, 1, 0, 0, 0, 0],  # 2: exercise 2 raises, 3 unanswered
    "s05_infinite_loop":  [1, 1, 0, 0, 1, 2],  # 5: exercise 2 stopped by the time limit
    "s06_tampered":       [1, 1, 0, 0, 1, 2],  # 5: edited and deleted tests restored
    "s07_invalid_json":   [0, 0, 0, 0, 0, 0],
    "s08_empty_folder":   [0, 0, 0, 0, 0, 0],
    "s09_renamed":        [1, 1, 2, 3, 1, 2],  # 10: the only notebook, renamed
    "s10_monkeypatch":    [1, 1, 2, 0, 1, 2],  # 7: 2 points it did not earn, flagged
}


def _master_solutions() -> dict[str, str]:
    solutions = {}
    for cell in read(MASTER).cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            lines = [line for line in cell.source.splitlines()
                     if BEGIN_SOLUTION not in line and END_SOLUTION not in line]
            solutions[grade_id(cell)] = "\n".join(lines) + "\n"
    return solutions


@functools.cache
def _student_copy() -> nbformat.NotebookNode:
    return student_copy(MASTER)


def _submission(answers: dict[str, str]) -> nbformat.NotebookNode:
    """The student copy with the given answer cells filled in (others left unanswered)."""
    nb = copy.deepcopy(_student_copy())
    for cell in nb.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return nb


def _write(nb: nbformat.NotebookNode, folder: Path, name: str = "exercises.ipynb") -> None:
    folder.mkdir(parents=True)
    nbformat.write(nb, str(folder / name))


def make_class(submissions: Path) -> None:
    """Write the fake class into ``submissions/<student>/01_cross_entropy/``."""
    ok = _master_solutions()
    ex1, ex2, ex3 = "ch01_ex1_solution", "ch01_ex2_solution", "ch01_ex3_solution"

    def folder(student: str) -> Path:
        return submissions / student / CHAPTER

    _write(_submission(ok), folder("s01_correct"))
    _write(_submission({**ok, ex3: EX3_SIGN}), folder("s02_partial"))
    _write(_submission({ex1: EX1_ROUNDED, ex2: EX2_NAIVE, ex3: EX3_DROPPED}),
           folder("s03_public_only"))
    _write(_submission({ex1: ok[ex1], ex2: "_scale = 1 / 0\n" + ok[ex2]}), folder("s04_raises"))
    _write(_submission({**ok, ex2: "while True:\n    pass\n"}), folder("s05_infinite_loop"))

    tampered = _submission({**ok, ex2: EX2_ZEROS})
    for cell in tampered.cells:
        if grade_id(cell) == "ch01_ex2_public":
            cell.source = 'print("Exercise 2: public tests passed.")'
        if grade_id(cell) == "ch01_ex1_public":
            cell.metadata["nbgrader"]["points"] = 100
    tampered.cells = [c for c in tampered.cells if grade_id(c) != "ch01_ex2_hidden"]
    _write(tampered, folder("s06_tampered"))

    folder("s07_invalid_json").mkdir(parents=True)
    text = nbformat.writes(_submission(ok))
    (folder("s07_invalid_json") / "exercises.ipynb").write_text(text[: len(text) // 2])

    (submissions / "s08_empty_folder").mkdir(parents=True)
    _write(_submission(ok), folder("s09_renamed"), name="exercises (1).ipynb")
    _write(_submission({**ok, ex2: PATCH + EX2_ZEROS}), folder("s10_monkeypatch"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    base = tmp_path_factory.mktemp("class")
    make_class(base / "submissions")
    entries = grade_tool.grade(base / "submissions", base / "grading", timeout=TIMEOUT_S)
    return base / "grading", entries


def test_every_student_gets_the_exact_points(graded: tuple[Path, list]) -> None:
    workdir, entries = graded
    got = {e.student: [e.scores[c][0] for c in CELLS] for e in entries}
    assert got == {s: [float(p) for p in pts] for s, pts in EXPECTED.items()}
    assert all([e.scores[c][1] for c in CELLS] == MAXIMA for e in entries)
    with open(workdir / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(EXPECTED) * len(CELLS)
    table = {(r["student"], r["exercise"]): (float(r["points"]), float(r["max_points"]))
             for r in rows}
    for student, points in EXPECTED.items():
        for cell, p, top in zip(CELLS, points, MAXIMA, strict=True):
            assert table[student, cell] == (p, top)
    with open(workdir / "totals.csv", newline="") as handle:
        totals = {r["student"]: float(r["points"]) for r in csv.DictReader(handle)}
    assert totals == {s: float(sum(p)) for s, p in EXPECTED.items()}


def test_each_problem_gets_a_clear_line(graded: tuple[Path, list]) -> None:
    workdir, entries = graded
    lines = {e.student: "; ".join([e.status, *e.notes]) for e in entries}
    assert lines["s01_correct"] == "graded"
    assert "cell ch01_ex3_solution not answered" in lines["s04_raises"]
    assert "cell ch01_ex2_solution raised ZeroDivisionError" in lines["s04_raises"]
    assert f"cell ch01_ex2_solution was stopped after {TIMEOUT_S} s" in lines["s05_infinite_loop"]
    assert "test cell ch01_ex2_public was edited: restored" in lines["s06_tampered"]
    assert "test cell ch01_ex2_hidden was deleted: restored" in lines["s06_tampered"]
    assert "nbgrader settings of cell ch01_ex1_public were changed" in lines["s06_tampered"]
    assert lines["s07_invalid_json"].startswith("invalid notebook: not valid JSON")
    assert lines["s08_empty_folder"].startswith("empty folder")
    assert "renamed file: graded 'exercises (1).ipynb'" in lines["s09_renamed"]
    assert "review by hand: cell ch01_ex2_solution modifies np.testing.assert_allclose" in (
        lines["s10_monkeypatch"]
    )
    report = (workdir / "report.txt").read_text()
    for student in EXPECTED:
        assert sum(line.startswith(student + " ") for line in report.splitlines()) == 1


def test_feedback_pages_are_written(graded: tuple[Path, list]) -> None:
    workdir, _ = graded
    for student in EXPECTED:
        page = workdir / "feedback" / student / CHAPTER / "exercises.html"
        assert page.exists() == (student not in {"s07_invalid_json", "s08_empty_folder"}), page
    text = (workdir / "feedback" / "s02_partial" / CHAPTER / "exercises.html").read_text()
    assert "Exercise 2: hidden tests passed." in text



# ------------------------------------------------------- nothing a teacher typed is lost

#: (student, test cell) -> manual score given in the formgrader (autograder gave 0)
MANUAL = {("s03_public_only", "ch01_ex2_hidden"): 2.0}
#: (student, test cell) -> extra credit; s02 resubmits afterwards
EXTRA = {("s02_partial", "ch01_ex1_hidden"): 1.0}
COMMENTS = {("s02_partial", "ch01_ex3_solution"): "Check the sign of dL/da.",
            ("s03_public_only", "ch01_ex2_solution"): "Use the stable form for large z."}
#: points per cell after the manual grades and the resubmissions
AFTER = {**EXPECTED,
         "s02_partial": [1, 2, 2, 3, 1, 2],       # resubmitted correct, +1 extra credit
         "s03_public_only": [1, 0, 2, 2, 1, 0],   # manual 2 on ch01_ex2_hidden
         "s11_new": [1, 1, 2, 3, 1, 2]}           # joined late


def _gradebook(workdir: Path):  # nbgrader's Gradebook
    from nbgrader.api import Gradebook

    config = course_config(workdir)
    return Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id)


@pytest.fixture(scope="module")
def regraded(graded: tuple[Path, list], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The graded class, then manual grades, a run with nothing new, a resubmission
    and a new student, then ``nbgrader export``."""
    first, _ = graded
    base = tmp_path_factory.mktemp("again")
    workdir, submissions = base / "grading", base / "submissions"
    shutil.copytree(first, workdir)
    shutil.copytree(first.parent / "submissions", submissions)
    with _gradebook(workdir) as gradebook:  # what a teacher does in the formgrader
        for (student, cell), score in MANUAL.items():
            gradebook.find_grade(cell, "exercises", CHAPTER, student).manual_score = score
        for (student, cell), score in EXTRA.items():
            gradebook.find_grade(cell, "exercises", CHAPTER, student).extra_credit = score
        for (student, cell), text in COMMENTS.items():
            gradebook.find_comment(cell, "exercises", CHAPTER, student).manual_comment = text
        gradebook.db.commit()
    same = grade_tool.grade(submissions, workdir, timeout=TIMEOUT_S)
    old_s02 = (submissions / "s02_partial" / CHAPTER / "exercises.ipynb").read_text()
    nbformat.write(_submission(_master_solutions()),
                   str(submissions / "s02_partial" / CHAPTER / "exercises.ipynb"))
    _write(_submission(_master_solutions()), submissions / "s11_new" / CHAPTER)
    kept = workdir / "feedback" / "s01_correct" / CHAPTER / "exercises.html"
    kept_before = kept.stat().st_mtime_ns
    again = grade_tool.grade(submissions, workdir, timeout=TIMEOUT_S)
    kept_after = kept.stat().st_mtime_ns
    export = base / "export.csv"
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([str(bindir / "nbgrader"), "export", f"--to={export}",
                    f"--db={course_config(workdir).CourseDirectory.db_url}"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    return {"workdir": workdir, "same": same, "again": again, "export": export,
            "old_s02": old_s02, "kept_page": (kept_before, kept_after)}


def _points(entries: list) -> dict[str, list[float]]:
    return {e.student: [e.scores[c][0] for c in CELLS] for e in entries}


def test_grading_again_keeps_manual_grades(regraded: dict) -> None:
    unchanged = {**EXPECTED, "s02_partial": [1, 2, 2, 3, 0, 0], "s03_public_only": AFTER[
        "s03_public_only"]}
    assert _points(regraded["same"]) == {s: [float(p) for p in v] for s, v in unchanged.items()}
    lines = {e.student: "; ".join(e.notes) for e in regraded["same"]}
    assert "unchanged since the last run: not re-graded" in lines["s01_correct"]
    assert "cell ch01_ex2_hidden graded by hand" in lines["s03_public_only"]


def test_resubmission_and_new_student_are_graded_and_nothing_is_lost(regraded: dict) -> None:
    workdir = regraded["workdir"]
    assert _points(regraded["again"]) == {s: [float(p) for p in v] for s, v in AFTER.items()}
    with open(workdir / "grades.csv", newline="") as handle:
        rows = {(r["student"], r["exercise"]): float(r["points"]) for r in csv.DictReader(handle)}
    assert rows["s02_partial", "ch01_ex1_hidden"] == 2.0  # 1 point and 1 of extra credit
    assert rows["s11_new", "ch01_ex3_hidden"] == 2.0
    with _gradebook(workdir) as gradebook:
        for (student, cell), text in COMMENTS.items():
            comment = gradebook.find_comment(cell, "exercises", CHAPTER, student)
            assert comment.manual_comment == text
        grade = gradebook.find_grade("ch01_ex3_hidden", "exercises", CHAPTER, "s02_partial")
        assert (grade.auto_score, grade.manual_score) == (2.0, None)  # the resubmission's
        grade = gradebook.find_grade("ch01_ex2_hidden", "exercises", CHAPTER, "s03_public_only")
        assert (grade.auto_score, grade.manual_score) == (0.0, 2.0)
    page = (workdir / "feedback" / "s02_partial" / CHAPTER / "exercises.html").read_text()
    assert COMMENTS["s02_partial", "ch01_ex3_solution"] in page
    assert (workdir / "feedback" / "s11_new" / CHAPTER / "exercises.html").is_file()
    # the chapter's feedback run wrote the new pages only: an unchanged student's stays
    before, after = regraded["kept_page"]
    assert after == before, "the feedback page of a student who did not resubmit was rewritten"
    # the replaced submission, its autograded copy and feedback, and the old reports
    replaced = sorted((workdir / "replaced").glob(f"*/submitted/s02_partial/{CHAPTER}/*.ipynb"))
    assert [p.read_text() for p in replaced] == [regraded["old_s02"]]
    assert list((workdir / "replaced").glob(f"*/autograded/s02_partial/{CHAPTER}/*.ipynb"))
    assert list((workdir / "replaced").glob(f"*/feedback/s02_partial/{CHAPTER}/*.html"))
    assert len(list((workdir / "replaced").glob("*/grades.csv"))) == 2


def test_export_holds_the_manual_grades(regraded: dict) -> None:
    with open(regraded["export"], newline="") as handle:
        scores = {r["student_id"]: (float(r["score"]), float(r["max_score"]))
                  for r in csv.DictReader(handle)}
    assert scores == {s: (float(sum(p)), 10.0) for s, p in AFTER.items() if s != "s08_empty_folder"
                      } | {"s08_empty_folder": (0.0, 10.0)}


# ------------------------------------------------------------ a kernel that does not start


def test_what_counts_as_a_kernel_that_did_not_start() -> None:
    for text in ("Kernel died before replying to kernel_info",
                 "RuntimeError: Kernel didn't respond in 60 seconds"):
        assert is_kernel_start_failure(RuntimeError(text)) and is_kernel_start_failure(text)
    assert not is_kernel_start_failure(ValueError("Kernel died before replying to kernel_info"))
    assert not is_kernel_start_failure("CellTimeoutError: No reply from kernel before timeout")
    assert not is_kernel_start_failure(RuntimeError("DeadKernelError: Kernel died"))


@pytest.mark.parametrize(("failures", "message", "starts_expected", "graded"), [
    (1, "Kernel died before replying to kernel_info", 2, True),
    (5, "Kernel didn't respond in 60 seconds", 2, False),
    (1, "some other failure", 1, False),
])
def test_autograde_starts_a_dead_kernel_once_more(
    tmp_path: Path, failing_kernel_starts: Callable[[int, str], list[int]],
    capsys: pytest.CaptureFixture[str],
    failures: int, message: str, starts_expected: int, graded: bool,
) -> None:
    _write(_submission(_master_solutions()), tmp_path / "submissions" / "s01" / CHAPTER)
    starts = failing_kernel_starts(failures, message)
    [entry] = grade_tool.grade(tmp_path / "submissions", tmp_path / "grading",
                               timeout=TIMEOUT_S, jobs=1, feedback=False)
    assert len(starts) == starts_expected
    if graded:
        assert (entry.status, entry.points, entry.max_points) == ("graded", 10.0, 10.0)
        assert "starting a new one" in capsys.readouterr().err
    else:
        assert entry.status.startswith("grading failed") and entry.points == 0.0
        assert message.split()[0] in entry.status, entry.status


class _FeedbackApi:
    """Stands in for NbGraderAPI.generate_feedback: writes the page of every student it
    reaches (all autograded ones but the excluded, or the one asked for)."""

    def __init__(self, workdir: Path, calls: list) -> None:
        self.workdir, self.calls = workdir, calls
        self.coursedir = type("CourseDirectory", (), {"student_id_exclude": ""})()

    def generate_feedback(self, chapter: str, student: str | None = None,
                          force: bool = True) -> dict:
        excluded = self.coursedir.student_id_exclude
        self.calls.append((student, excluded))
        reached = ([student] if student is not None else
                   [p.parent.name for p in (self.workdir / "autograded").glob(f"*/{chapter}")
                    if p.parent.name not in excluded.split(",")])
        for name in reached:
            page = self.workdir / "feedback" / name / chapter / "exercises.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text("feedback")
        return {"success": True}


class _Course:
    def __init__(self, workdir: Path, calls: list) -> None:
        self.workdir, self._calls = workdir, calls

    def api(self) -> _FeedbackApi:
        return _FeedbackApi(self.workdir, self._calls)

    def path(self, step: str, student: str, chapter: str) -> Path:
        return self.workdir / step / student / chapter


@pytest.mark.parametrize("earlier", ["s_old", "s,old"])
def test_feedback_is_one_run_per_chapter_that_leaves_other_students_alone(
        tmp_path: Path, earlier: str) -> None:
    for name in (earlier, "s_new1", "s_new2"):
        (tmp_path / "autograded" / name / CHAPTER).mkdir(parents=True)
    calls: list = []
    pages, _ = grade_tool._feedback_chapter((_Course(tmp_path, calls), CHAPTER,
                                             ("s_new1", "s_new2")))
    assert pages == {"s_new1": None, "s_new2": None}
    assert not (tmp_path / "feedback" / earlier).exists(), "a student graded earlier was reached"
    if "," in earlier:  # nbgrader's exclusion list is comma-separated: one run per student
        assert calls == [("s_new1", ""), ("s_new2", "")]
    else:
        assert calls == [(None, earlier)]
