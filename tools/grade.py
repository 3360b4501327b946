"""Autograde a folder of submitted exercise notebooks with nbgrader.

Usage::

    python tools/grade.py SUBMISSIONS [--workdir grading] [--timeout 5] [--chapter NAME]
                          [--jobs 2] [--no-feedback]
    make grade SUBMISSIONS=path/to/submissions

Layout of SUBMISSIONS: one folder per student, named by the student id, holding one
folder per chapter named as under ``chapters/``::

    SUBMISSIONS/<student_id>/<chapter>/exercises.ipynb   e.g. alice/01_cross_entropy/exercises.ipynb

With ``--chapter NAME`` the chapter folder is left out:
``SUBMISSIONS/<student_id>/exercises.ipynb``. Every chapter that at least one student
handed in is graded for every student (no folder: 0 points).

How: the masters ``chapters/<chapter>/exercises.ipynb`` are entered into an nbgrader
gradebook (SQLite, created in the work folder) with ``generate_assignment``; each
submission is run by nbgrader's ``autograde`` in a fresh kernel with the hidden tests
and any edited or deleted test cell restored from the master, and with a time limit
per cell; ``generate_feedback`` writes an HTML page per student and chapter.

Written to the work folder (``grading/`` by default; replaced on every run):

- ``grades.csv``: student, chapter, exercise (the grade id of a test cell), points, max_points
- ``totals.csv``: student, chapter, points, max_points, status, notes
- ``report.txt``: one line per student and chapter (also printed)
- ``feedback/<student_id>/<chapter>/exercises.html``
- nbgrader's own folders (``source``, ``release``, ``submitted``, ``autograded``) and
  ``gradebook.db``.

A submission that raises, never stops, edited or deleted a test cell, is not valid
JSON, is missing, or was renamed gets a line saying so and a grade (0 where nothing can
be graded); one bad submission never stops the batch.

Limits: the tests run in the learner's own kernel, so code that patches NumPy or a
built-in can fool them; such code is flagged "review by hand" in the report. Student
code runs with the grader's rights: grade untrusted work in a container or a throwaway
account. The feedback pages show the hidden tests, as nbgrader's feedback does.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import csv
import json
import logging
import multiprocessing
import os
import re
import shutil
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _nbgrader_common import (
    EXERCISES_NAME,
    ROOT,
    exercise_notebooks,
    grade_id,
    gradebook_setup,
    is_graded,
    is_locked,
    nbgrader_meta,
    quiet_loggers,
    read,
)

DEFAULT_TIMEOUT_S = 5
DEFAULT_JOBS = max(1, min(2, os.cpu_count() or 1))
MARKER = ".grading-workdir"
NOTEBOOK_ID = Path(EXERCISES_NAME).stem
#: Module names whose attributes a learner's answer has no business reassigning.
WATCHED_MODULES = {
    "np", "numpy", "sp", "sympy", "celesson", "math", "builtins", "mpmath", "sys", "__builtins__"
}
_BUILTINS = {name for name in dir(builtins) if not name.startswith("_")}
_SETTERS = {"setattr", "delattr"}


@dataclass
class Entry:
    """One student's work on one chapter, and what became of it."""

    student: str
    chapter: str
    notebook: Path | None = None
    status: str = "graded"
    notes: list[str] = field(default_factory=list)
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def points(self) -> float:
        return sum(score for score, _ in self.scores.values())

    @property
    def max_points(self) -> float:
        return sum(top for _, top in self.scores.values())


class _Collect(logging.Handler):
    """Keep the warnings and errors that nbgrader logs during one operation."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _fmt(value: float) -> str:
    return f"{value:g}"


# ---------------------------------------------------------------------------- intake


def _find_notebook(folder: Path) -> tuple[Path | None, str, list[str]]:
    """Pick the notebook to grade in one chapter folder: (path, status, notes)."""
    if not folder.is_dir():
        return None, "no submission", []
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    wanted = folder / EXERCISES_NAME
    if wanted in notebooks:
        others = [p.name for p in notebooks if p != wanted]
        notes = [f"other notebooks ignored: {', '.join(others)}"] if others else []
        return wanted, "graded", notes
    if len(notebooks) == 1:
        return notebooks[0], "graded", [
            f"renamed file: graded {notebooks[0].name!r} as {EXERCISES_NAME}"
        ]
    if notebooks:
        names = ", ".join(p.name for p in notebooks)
        return None, f"not graded: several notebooks and none named {EXERCISES_NAME} ({names})", []
    if files:
        names = ", ".join(p.name for p in files)
        return None, f"no notebook in the folder (found {names})", []
    return None, "empty folder: nothing to grade", []


def _load(path: Path) -> tuple[NotebookNode | None, str | None]:
    """Read a submitted notebook; on failure return (None, the reason)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None, "invalid notebook: the file is not UTF-8 text"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"invalid notebook: not valid JSON ({exc})"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:
        return None, f"invalid notebook: not a Jupyter notebook ({type(exc).__name__})"
    return nb, None


def _repair(nb: NotebookNode, released: NotebookNode) -> list[str]:
    """Reset nbgrader metadata and put deleted test cells back; return what was found.

    The sources of test cells are restored by nbgrader itself (from the gradebook)
    during autograding; this step makes sure every test cell is there to be restored.
    """
    notes: list[str] = []
    reference = {grade_id(c): c for c in released.cells if grade_id(c) is not None}
    order = [grade_id(c) for c in released.cells if grade_id(c) is not None]
    seen: set[str] = set()
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid not in reference or gid in seen:
            continue
        seen.add(gid)
        ref = reference[gid]
        if is_locked(ref) and cell.get("source", "") != ref.source:
            notes.append(f"test cell {gid} was edited: restored from the master")
        keys = ("grade", "solution", "locked", "points")
        mine, theirs = nbgrader_meta(cell), nbgrader_meta(ref)
        if any(mine.get(k) != theirs.get(k) for k in keys):
            notes.append(f"nbgrader settings of cell {gid} were changed: restored")
        if cell.cell_type != ref.cell_type:
            notes.append(f"cell {gid} was turned into a {cell.cell_type} cell: restored")
        cell.metadata["nbgrader"] = copy.deepcopy(ref.metadata["nbgrader"])
    for position, gid in enumerate(order):
        ref = reference[gid]
        if gid in seen or not is_graded(ref):
            continue
        # insert after the nearest earlier nbgrader cell that is present, else at the top
        index = 0
        for earlier in reversed(order[:position]):
            hits = [i for i, c in enumerate(nb.cells) if grade_id(c) == earlier]
            if hits:
                index = hits[0] + 1
                break
        nb.cells.insert(index, copy.deepcopy(ref))
        seen.add(gid)
        notes.append(f"test cell {gid} was deleted: restored from the master")
    return notes


def _audit(nb: NotebookNode) -> list[str]:
    """Flag answer code that could fool tests running in the same kernel.

    Looks for assignments to attributes of imported modules (``np.isclose = ...``,
    ``setattr(np, ...)``, ``sys.modules[...] = ...``) and for rebinding of built-in
    names (``abs = ...``, ``def print(...)``). The grade stands, but the instructor
    should look at the notebook.
    """
    found: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or is_locked(cell):
            continue
        try:
            tree = ast.parse(cell.get("source", ""))
        except SyntaxError:
            continue
        label = grade_id(cell) or f"#{index + 1}"
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in _BUILTINS:
                found.append(f"review by hand: cell {label} redefines the built-in {node.name}")
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", "") in _SETTERS
                  and node.args and getattr(node.args[0], "id", "") in WATCHED_MODULES):
                found.append(f"review by hand: cell {label} calls {ast.unparse(node)[:60]}")
            for target in targets:
                base = target
                while isinstance(base, ast.Attribute | ast.Subscript):
                    base = base.value
                name = getattr(base, "id", "")
                if base is not target and name in WATCHED_MODULES:
                    found.append(f"review by hand: cell {label} modifies {ast.unparse(target)} "
                                 "(tests run in the same kernel)")
                elif base is target and name in _BUILTINS:
                    found.append(f"review by hand: cell {label} rebinds the built-in {name}")
    return list(dict.fromkeys(found))


def collect(
    submissions: Path, chapters: list[str], only: str | None
) -> tuple[list[Entry], list[str]]:
    """Find every (student, chapter) submission; return the entries and batch-level notes."""
    notes: list[str] = []
    students = []
    for path in sorted(submissions.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            students.append(path)
        else:
            notes.append(f"ignored {path.name}: expected one folder per student")
    if only is not None:
        graded = [only]
    else:
        handed_in = {p.name for s in students for p in s.iterdir() if p.is_dir()}
        graded = [c for c in chapters if c in handed_in]
    entries: list[Entry] = []
    for student in students:
        extra: list[str] = []
        if only is None:
            for item in sorted(student.iterdir()):
                if item.name.startswith("."):
                    continue
                if item.is_dir() and item.name not in chapters:
                    extra.append(f"unknown folder {item.name!r} ignored")
                elif item.is_file():
                    extra.append(
                        f"{item.name!r} is not in a chapter folder "
                        f"(expected {student.name}/<chapter>/{EXERCISES_NAME}): ignored"
                    )
        for chapter in graded:
            folder = student if only is not None else student / chapter
            notebook, status, found = _find_notebook(folder)
            if not any(student.iterdir()):
                status = "empty folder: nothing to grade"
            entry = Entry(student.name, chapter, notebook, status, [*extra, *found])
            entries.append(entry)
        if not graded:
            notes.append(f"{student.name}: nothing to grade ({', '.join(extra) or 'empty folder'})")
    return entries, notes


# --------------------------------------------------------------------------- nbgrader


def _config(workdir: Path, timeout: int) -> object:
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(workdir)
    config.CourseDirectory.db_url = f"sqlite:///{workdir / 'gradebook.db'}"
    config.Execute.timeout = int(timeout)
    config.Execute.interrupt_on_timeout = True
    config.Execute.extra_arguments = [
        "--HistoryManager.hist_file=:memory:",
        "--IPKernelApp.log_level=ERROR",
    ]
    config.GenerateAssignment.create_assignment = True
    config.Autograde.create_student = True
    return config


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b:?.*$")


def _reason(exc: BaseException, messages: list[str]) -> str:
    """The most telling line about why an nbgrader operation failed."""
    for message in reversed(messages):
        for line in reversed(message.strip().splitlines()):
            if _EXCEPTION_LINE.match(line.strip()) and "NbGraderException" not in line:
                return line.strip()
    return f"{type(exc).__name__}: {exc}"


def _run(converter_cls: type, config: object, assignment: str, student: str = ".") -> list[str]:
    """Run one nbgrader converter; return its warnings, raise RuntimeError on failure."""
    from nbgrader.coursedir import CourseDirectory

    cfg = copy.deepcopy(config)
    cfg.CourseDirectory.assignment_id = assignment
    cfg.CourseDirectory.student_id = student
    log = logging.getLogger(f"grade.{converter_cls.__name__}")
    log.propagate = False
    collector = _Collect()
    log.addHandler(collector)
    try:
        with quiet_loggers(logging.ERROR), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy and traitlets notices
            coursedir = CourseDirectory(config=cfg, log=log)
            converter_cls(coursedir=coursedir, config=cfg, log=log).start()
    except Exception as exc:
        raise RuntimeError(_reason(exc, collector.messages)) from exc
    finally:
        log.removeHandler(collector)
    return collector.messages


def _scores(workdir: Path, entry: Entry, order: list[str]) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gradebook:
        warnings.simplefilter("ignore")
        notebook = gradebook.find_submission_notebook(NOTEBOOK_ID, entry.chapter, entry.student)
        found = {g.name: (float(g.score or 0.0), float(g.max_score)) for g in notebook.grades}
    return {gid: found[gid] for gid in order if gid in found}


def _execution_notes(path: Path, timeout: int) -> list[str]:
    """Errors and time-outs in the cells of an autograded notebook (test cells excluded)."""
    notes: list[str] = []
    if not path.exists():
        return notes
    nb = read(path)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        label = grade_id(cell) or f"#{index + 1}"
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            name = output.get("ename", "an error")
            if name in {"CellTimeoutError", "KeyboardInterrupt"}:
                notes.append(f"cell {label} was stopped after {timeout} s (time limit)")
            elif not is_graded(cell) and name == "NotImplementedError":
                notes.append(f"cell {label} not answered")
            elif not is_graded(cell):
                notes.append(f"cell {label} raised {name}")
            break
    return notes


# ------------------------------------------------------------------------------- main


def _prepare_workdir(workdir: Path, submissions: Path) -> None:
    work, subs = workdir.resolve(), submissions.resolve()
    if work == subs or work in subs.parents:
        raise SystemExit("the work folder must not contain the submissions")
    if workdir.exists():
        if any(workdir.iterdir()) and not (workdir / MARKER).exists():
            raise SystemExit(
                f"refusing to use {workdir}: not empty and not a previous grading folder"
            )
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / MARKER).write_text("made by tools/grade.py; replaced on every run\n")


def grade(
    submissions: Path,
    workdir: Path,
    *,
    timeout: int = DEFAULT_TIMEOUT_S,
    chapter: str | None = None,
    feedback: bool = True,
    jobs: int = DEFAULT_JOBS,
    root: Path = ROOT,
) -> list[Entry]:
    """Grade every submission under ``submissions``; write the results to ``workdir``.

    Parameters
    ----------
    submissions : Path
        ``<student>/<chapter>/exercises.ipynb`` folders (``<student>/exercises.ipynb``
        when ``chapter`` is given).
    workdir : Path
        nbgrader course folder and output folder; replaced on every run.
    timeout : int
        Seconds a single cell may run before it is stopped.
    chapter : str, optional
        Grade only this chapter, with the flat layout.
    feedback : bool
        Write the HTML feedback pages.
    jobs : int
        Submissions graded at the same time (worker processes).
    root : Path
        The course checkout holding ``chapters/``.

    Returns
    -------
    list of Entry
        One per student and chapter, with points, status and notes.
    """
    from nbgrader.converters import GenerateAssignment

    submissions, workdir = Path(submissions).resolve(), Path(workdir).resolve()
    if not submissions.is_dir():
        raise SystemExit(f"no such folder: {submissions}")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise ValueError(f"timeout must be a positive integer of seconds, got {timeout!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    masters = {m.parent.name: m for m in exercise_notebooks(root)}
    if chapter is not None and chapter not in masters:
        raise SystemExit(f"unknown chapter {chapter!r}; known: {', '.join(masters)}")
    gradebook_setup()
    _prepare_workdir(workdir, submissions)
    entries, batch_notes = collect(submissions, sorted(masters), chapter)
    config = _config(workdir, timeout)

    releases: dict[str, NotebookNode] = {}
    orders: dict[str, list[str]] = {}
    maxima: dict[str, dict[str, float]] = {}
    broken: dict[str, str] = {}
    for name in sorted({e.chapter for e in entries}):
        graded_cells = [c for c in read(masters[name]).cells if is_graded(c)]
        orders[name] = [grade_id(c) for c in graded_cells]
        maxima[name] = {grade_id(c): float(nbgrader_meta(c)["points"]) for c in graded_cells}
        source = workdir / "source" / name
        source.mkdir(parents=True)
        shutil.copyfile(masters[name], source / EXERCISES_NAME)
        try:
            _run(GenerateAssignment, config, name)
            releases[name] = read(workdir / "release" / name / EXERCISES_NAME)
        except Exception as exc:  # the master itself is broken: say so for every student
            broken[name] = f"not graded: the master of {name} could not be set up ({exc})"

    queued: list[Entry] = []
    for entry in entries:
        zero = {gid: (0.0, top) for gid, top in maxima[entry.chapter].items()}
        if entry.chapter in broken:
            entry.status, entry.scores = broken[entry.chapter], zero
            continue
        if entry.notebook is None:
            entry.scores = zero
            continue
        nb, problem = _load(entry.notebook)
        if nb is None:
            entry.status, entry.scores = problem or "invalid notebook", zero
            continue
        entry.notes += _repair(nb, releases[entry.chapter])
        entry.notes += _audit(nb)
        target = workdir / "submitted" / entry.student / entry.chapter / EXERCISES_NAME
        target.parent.mkdir(parents=True)
        nbformat.write(nb, str(target))
        queued.append(entry)

    # Autograde (and write the feedback of) the queued submissions, `jobs` at a time; each
    # runs in a fresh kernel, so worker processes are independent but for the gradebook
    # (SQLite, short transactions).
    outcomes: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    args = [(str(workdir), timeout, e.chapter, e.student, feedback) for e in queued]
    if jobs > 1 and len(args) > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(args)), mp_context=context) as pool:
            futures = {(a[2], a[3]): pool.submit(_autograde_one, a) for a in args}
            for key, future in futures.items():
                try:
                    outcomes[key] = future.result()
                except Exception as exc:  # a worker process died
                    outcomes[key] = (f"the grading process failed ({type(exc).__name__})", None)
    else:
        for arg in args:
            outcomes[arg[2], arg[3]] = _autograde_one(arg)
    for entry in queued:
        error, feedback_error = outcomes[entry.chapter, entry.student]
        if error is not None and "database is locked" in error:  # retry alone, once
            error, feedback_error = _autograde_one(
                (str(workdir), timeout, entry.chapter, entry.student, feedback)
            )
        zero = {gid: (0.0, top) for gid, top in maxima[entry.chapter].items()}
        if error is not None:
            entry.status, entry.scores = f"grading failed: {error}", zero
            continue
        autograded = workdir / "autograded" / entry.student / entry.chapter / EXERCISES_NAME
        entry.notes += _execution_notes(autograded, timeout)
        entry.scores = {**zero, **_scores(workdir, entry, orders[entry.chapter])}
        if feedback_error is not None:
            entry.notes.append(f"no feedback page: {feedback_error}")

    _write_outputs(workdir, entries, batch_notes)
    return entries


def _autograde_one(args: tuple[str, int, str, str, bool]) -> tuple[str | None, str | None]:
    """Autograde one submission and write its feedback page; return (error, feedback error).

    Runs in a worker process; never raises.
    """
    from nbgrader.converters import Autograde, GenerateFeedback

    workdir, timeout, chapter, student, feedback = args
    gradebook_setup()
    config = _config(Path(workdir), timeout)
    try:
        _run(Autograde, config, chapter, student)
    except Exception as exc:
        return str(exc), None
    if feedback:
        try:
            _run(GenerateFeedback, config, chapter, student)
        except Exception as exc:
            return None, str(exc)
    return None, None


def report_lines(entries: list[Entry], batch_notes: list[str] | None = None) -> list[str]:
    """One line per student and chapter: points, status, notes."""
    width = max([len(e.student) for e in entries] + [7])
    lines = []
    for e in entries:
        score = f"{_fmt(e.points)}/{_fmt(e.max_points)}"
        text = "; ".join([e.status, *e.notes])
        lines.append(f"{e.student:<{width}}  {e.chapter}  {score:>7}  {text}")
    return lines + list(batch_notes or [])


def _write_outputs(workdir: Path, entries: list[Entry], batch_notes: list[str]) -> None:
    with open(workdir / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "chapter", "exercise", "points", "max_points"])
        for e in entries:
            for gid, (score, top) in e.scores.items():
                writer.writerow([e.student, e.chapter, gid, _fmt(score), _fmt(top)])
    with open(workdir / "totals.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "chapter", "points", "max_points", "status", "notes"])
        for e in entries:
            writer.writerow([e.student, e.chapter, _fmt(e.points), _fmt(e.max_points),
                             e.status, "; ".join(e.notes)])
    (workdir / "report.txt").write_text("\n".join(report_lines(entries, batch_notes)) + "\n",
                                        encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Autograde submitted exercise notebooks with nbgrader.",
        epilog=f"Layout: SUBMISSIONS/<student_id>/<chapter>/{EXERCISES_NAME}",
    )
    parser.add_argument("submissions", type=Path, help="one folder per student")
    parser.add_argument("--workdir", type=Path, default=ROOT / "grading",
                        help="output and nbgrader folder, replaced on every run (grading/)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds one cell may run (default {DEFAULT_TIMEOUT_S})")
    parser.add_argument("--chapter", default=None,
                        help=f"grade one chapter, layout SUBMISSIONS/<student_id>/{EXERCISES_NAME}")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                        help=f"submissions graded at once (default {DEFAULT_JOBS})")
    parser.add_argument("--no-feedback", action="store_true", help="skip the HTML feedback")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    entries = grade(args.submissions, args.workdir, timeout=args.timeout,
                    chapter=args.chapter, feedback=not args.no_feedback, jobs=args.jobs)
    print((args.workdir / "report.txt").read_text(encoding="utf-8"), end="")
    if not entries:
        print("nothing to grade: no chapter folders found")
        return 1
    print(f"graded {len(entries)} submissions in {time.perf_counter() - start:.1f} s; "
          f"results in {os.path.relpath(args.workdir)}/ "
          "(grades.csv, totals.csv, report.txt, feedback/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
