"""Grade a folder of submitted exercise notebooks: a thin layer over nbgrader.

Usage::

    python tools/grade.py SUBMISSIONS [--workdir grading] [--timeout S] [--chapter NAME]
                          [--jobs 2] [--no-feedback] [--regrade]
    make grade SUBMISSIONS=path/to/submissions

Layout of SUBMISSIONS: one folder per student, named by the student id, holding one
folder per chapter named as under ``chapters/``::

    SUBMISSIONS/<student_id>/<chapter>/exercises.ipynb   e.g. alice/01_cross_entropy/exercises.ipynb

With ``--chapter NAME`` the chapter folder is left out:
``SUBMISSIONS/<student_id>/exercises.ipynb``. Every chapter that at least one student
handed in is graded for every student (no folder: 0 points).

nbgrader does the grading, with the course's ``nbgrader_config.py``: ``generate_assignment``
enters each master into the gradebook, ``autograde`` runs each submission in a fresh
kernel with the hidden tests, edited test cells and deleted test cells restored and a
time limit per cell, ``generate_feedback`` writes the feedback pages. The work folder
(``grading/`` by default) is an nbgrader course folder, the one ``nbgrader formgrader``
and ``nbgrader export`` use. This tool adds what nbgrader lacks:

- intake: a renamed notebook is graded if it is the only one; a file that is not a
  notebook, an empty folder and a missing chapter get 0 and a clear line (nbgrader
  stops on the first and ignores the others);
- a report of tampering with test cells, and "review by hand" flags for answers that
  patch modules or built-ins (which can fool tests run in the same kernel);
- a line per student and chapter (``report.txt``), and the CSV files ``grades.csv``
  (student, chapter, exercise, points, max_points: one row per autograded test cell)
  and ``totals.csv`` (with status and notes), read from the gradebook;
- several submissions graded at once (``--jobs``);
- nothing is lost: the gradebook is kept and updated (manual grades, extra credit and
  comments made in the formgrader stay); a submission is re-graded only when it changed
  (or its master, or with ``--regrade``), and the files it replaces are moved to
  ``replaced/<time>/``.

Limits: the tests run in the learner's own kernel, so code that patches NumPy or a
built-in can fool them; such code is flagged. Student code runs with the grader's rights:
grade untrusted work in a container or a throwaway account. The feedback pages show the
hidden tests, as nbgrader's feedback does.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import csv
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _nbgrader_common import (
    EXERCISES_NAME,
    KERNEL_START_ATTEMPTS,
    ROOT,
    course_config,
    exercise_notebooks,
    grade_id,
    gradebook_setup,
    is_graded,
    is_kernel_start_failure,
    is_locked,
    nbgrader_meta,
    quiet_loggers,
    read,
)

DEFAULT_JOBS = max(1, min(2, os.cpu_count() or 1))
NOTEBOOK_ID = Path(EXERCISES_NAME).stem
FEEDBACK_NAME = NOTEBOOK_ID + ".html"
STATE = ".grade-state.json"
OUTPUTS = ("grades.csv", "totals.csv", "report.txt")
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
    seconds: dict[str, float] = field(default_factory=dict)  # autograde, feedback

    @property
    def points(self) -> float:
        return sum(score for score, _ in self.scores.values())

    @property
    def max_points(self) -> float:
        return sum(top for _, top in self.scores.values())


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
        return wanted, "graded", [f"other notebooks ignored: {', '.join(others)}"] if others else []
    if len(notebooks) == 1:
        return notebooks[0], "graded", [
            f"renamed file: graded {notebooks[0].name!r} as {EXERCISES_NAME}"
        ]
    if notebooks:
        names = ", ".join(p.name for p in notebooks)
        return None, f"not graded: several notebooks and none named {EXERCISES_NAME} ({names})", []
    if files:
        return None, f"no notebook in the folder (found {', '.join(p.name for p in files)})", []
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


def _tampering(nb: NotebookNode, released: NotebookNode) -> list[str]:
    """What the student changed in the released test cells (nbgrader puts it back)."""
    notes: list[str] = []
    mine = {}
    for cell in nb.cells:
        mine.setdefault(grade_id(cell), cell)
    for ref in released.cells:
        gid = grade_id(ref)
        if gid is None:
            continue
        cell = mine.get(gid)
        if cell is None:
            if is_graded(ref):
                notes.append(f"test cell {gid} was deleted: restored from the master")
            continue
        if is_locked(ref) and cell.get("source", "") != ref.source:
            notes.append(f"test cell {gid} was edited: restored from the master")
        keys = ("grade", "solution", "locked", "points")
        if any(nbgrader_meta(cell).get(k) != nbgrader_meta(ref).get(k) for k in keys):
            notes.append(f"nbgrader settings of cell {gid} were changed: restored")
        if cell.cell_type != ref.cell_type:
            notes.append(f"cell {gid} was turned into a {cell.cell_type} cell: restored")
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
                    extra.append(f"{item.name!r} is not in a chapter folder "
                                 f"(expected {student.name}/<chapter>/{EXERCISES_NAME}): ignored")
        for chapter in graded:
            folder = student if only is not None else student / chapter
            notebook, status, found = _find_notebook(folder)
            if not any(student.iterdir()):
                status = "empty folder: nothing to grade"
            entries.append(Entry(student.name, chapter, notebook, status, [*extra, *found]))
        if not graded:
            notes.append(f"{student.name}: nothing to grade ({', '.join(extra) or 'empty folder'})")
    return entries, notes


# ----------------------------------------------------------------- the course folder


class Course:
    """The nbgrader course folder ``workdir`` and the moves that keep it whole."""

    def __init__(self, workdir: Path, root: Path, timeout: int | None, extra: Any = None):
        self.workdir, self.root = workdir, root
        self.config = course_config(workdir, root)
        if timeout is not None:
            self.config.Execute.timeout = int(timeout)
        if extra is not None:
            self.config.merge(extra)
        self.timeout = int(self.config.Execute.timeout)
        self.stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        taken = {p.name for p in (workdir / "replaced").glob(f"{self.stamp}*")}
        self.stamp += next(f"-{n}" for n in range(1, len(taken) + 2)
                           if f"{self.stamp}-{n}" not in taken)
        self.state_path = workdir / STATE
        self.state: dict[str, Any] = (json.loads(self.state_path.read_text())
                                      if self.state_path.exists() else {})

    def path(self, step: str, student: str, chapter: str) -> Path:
        return self.workdir / step / student / chapter

    def move_aside(self, path: Path) -> None:
        """Move ``path`` to ``replaced/<time>/`` under the same relative path."""
        if path.exists():
            target = self.workdir / "replaced" / self.stamp / path.relative_to(self.workdir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(target))

    def api(self) -> Any:
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        return NbGraderAPI(coursedir=CourseDirectory(config=self.config), config=self.config)

    def save_state(self) -> None:
        self.state_path.write_text(json.dumps(self.state, indent=1, sort_keys=True) + "\n")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reason(result: dict[str, Any]) -> str:
    """The most telling line of a failed nbgrader operation."""
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    lines = [line.strip() for line in text.splitlines()]
    pattern = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b:?.*$")
    hits = [line for line in lines if pattern.match(line) and "NbGraderException" not in line]
    return hits[-1] if hits else "nbgrader reported an error"


def _prepare_chapter(course: Course, api: Any, chapter: str, master: Path) -> str | None:
    """``generate_assignment`` when the master is new or changed; return an error or None."""
    digest = _digest(master)
    released = course.workdir / "release" / chapter / EXERCISES_NAME
    if course.state.get("masters", {}).get(chapter) == digest and released.exists():
        return None
    course.move_aside(released.parent)
    result = api.generate_assignment(chapter, force=True, create=True)
    if not result["success"]:
        return f"not graded: the master of {chapter} could not be set up ({_reason(result)})"
    course.state.setdefault("masters", {})[chapter] = digest
    course.state.setdefault("stale", []).append(chapter)  # every submission is re-graded
    return None


def _stage(course: Course, entry: Entry, regrade: bool) -> bool:
    """Copy the submission into ``submitted/``; return whether it must be autograded."""
    assert entry.notebook is not None
    submitted = course.path("submitted", entry.student, entry.chapter)
    autograded = course.path("autograded", entry.student, entry.chapter) / EXERCISES_NAME
    text = entry.notebook.read_bytes()
    old = submitted / EXERCISES_NAME
    same = old.exists() and old.read_bytes() == text
    if same and autograded.exists() and not regrade:
        return False
    for step in ("autograded", "feedback") if same else ("submitted", "autograded", "feedback"):
        course.move_aside(course.path(step, entry.student, entry.chapter))
    if not same:
        submitted.mkdir(parents=True)
        old.write_bytes(text)
    return True


def _zero_if_new(course: Course, entry: Entry) -> None:
    """Enter a chapter with nothing gradable into the gradebook (0 points), unless a
    submission graded earlier is there: then it and its grades stay."""
    from nbgrader.api import Gradebook

    with Gradebook(course.config.CourseDirectory.db_url,
                   course.config.CourseDirectory.course_id) as gradebook:
        submission = gradebook.update_or_create_submission(entry.chapter, entry.student)
        graded_before = course.path("autograded", entry.student, entry.chapter).exists()
        if graded_before:
            entry.notes.append("the submission graded earlier is kept")
            return
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.auto_score is None:
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
        gradebook.db.commit()


Outcome = tuple[str | None, dict[str, float]]
FeedbackOutcome = tuple[dict[str, str | None], float]


def _autograde_one(args: tuple[Course, str, str]) -> Outcome:
    """Autograde one submission.

    Runs in a worker process; never raises. Returns (error, seconds spent in
    ``autograde``).
    """
    course, chapter, student = args
    gradebook_setup()
    seconds: dict[str, float] = {}
    with quiet_loggers(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api = course.api()
        start = time.perf_counter()
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            result = api.autograde(chapter, student, force=True, create=False)
            log = (result.get("error") or "") + "\n" + (result.get("log") or "")
            if (result["success"] or attempt == KERNEL_START_ATTEMPTS
                    or not is_kernel_start_failure(log)):
                break
            print(f"autograde {student}/{chapter}: the kernel did not start "
                  f"({_reason(result)}); starting a new one", file=sys.stderr)
        seconds["autograde"] = time.perf_counter() - start
    return (None if result["success"] else _reason(result)), seconds


def _feedback_chapter(args: tuple[Course, str, tuple[str, ...]]) -> FeedbackOutcome:
    """Write the feedback pages of one chapter for ``students``, in one nbgrader run.

    ``generate_feedback`` for the whole chapter is nbgrader's own loop over its
    students, with one exporter: the feedback template is compiled once, not once per
    student (about 0.3 s of each page). Students graded earlier and not in ``students``
    are excluded (``CourseDirectory.student_id_exclude``), so their pages stay as they
    are (a name with a comma cannot be excluded: then one run per student, as before).
    Runs in a worker process; never raises. Returns, per student, ``None`` or why the
    page is missing, and the seconds the run took.
    """
    course, chapter, students = args
    gradebook_setup()
    autograded = course.workdir / "autograded"
    others = sorted({p.parent.name for p in autograded.glob(f"*/{chapter}")} - set(students))
    start = time.perf_counter()
    with quiet_loggers(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api = course.api()
        if any("," in name for name in [*others, *students]):
            results = [api.generate_feedback(chapter, student, force=True) for student in students]
        else:
            api.coursedir.student_id_exclude = ",".join(others)
            results = [api.generate_feedback(chapter, force=True)]
    seconds = time.perf_counter() - start
    failed = [result for result in results if not result["success"]]
    why = _reason(failed[-1]) if failed else "nbgrader wrote no feedback page"
    pages = {student: None if (course.path("feedback", student, chapter) / FEEDBACK_NAME).is_file()
             else why for student in students}
    return pages, seconds


def _execution_notes(path: Path, timeout: int) -> list[str]:
    """Errors and time-outs in the answer cells of an autograded notebook."""
    notes: list[str] = []
    if not path.exists():
        return notes
    for index, cell in enumerate(read(path).cells):
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


def _read_scores(course: Course, entries: list[Entry]) -> None:
    """Fill every entry's scores from the gradebook (manual grades included)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.config.CourseDirectory.db_url,
                   course.config.CourseDirectory.course_id) as gradebook:
        for entry in entries:
            notebook = gradebook.find_notebook(NOTEBOOK_ID, entry.chapter)
            order = [cell.name for cell in notebook.grade_cells]
            maxima = {cell.name: float(cell.max_score) for cell in notebook.grade_cells}
            entry.scores = {gid: (0.0, maxima[gid]) for gid in order}
            try:
                graded = gradebook.find_submission_notebook(NOTEBOOK_ID, entry.chapter,
                                                            entry.student)
            except MissingEntry:
                continue
            for grade in graded.grades:
                entry.scores[grade.name] = (float(grade.score or 0.0), maxima[grade.name])
                if grade.manual_score is not None or grade.extra_credit:
                    entry.notes.append(f"cell {grade.name} graded by hand")


# ------------------------------------------------------------------------------- main


def _run(work: Callable[[Any], Any], tasks: list[Any], jobs: int) -> list[Any]:
    """``work`` on every task, in ``jobs`` worker processes when there is more than one."""
    if jobs > 1 and len(tasks) > 1:  # each notebook runs in its own kernel anyway
        # fork: the workers start with nbgrader already imported (seconds per worker)
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context) as pool:
            return list(pool.map(work, tasks))
    return [work(task) for task in tasks]


def grade(
    submissions: Path,
    workdir: Path,
    *,
    timeout: int | None = None,
    chapter: str | None = None,
    feedback: bool = True,
    jobs: int = DEFAULT_JOBS,
    regrade: bool = False,
    root: Path = ROOT,
    config: Any = None,
    forked: bool = True,
) -> list[Entry]:
    """Grade every submission under ``submissions`` into the course folder ``workdir``.

    Parameters
    ----------
    submissions : Path
        ``<student>/<chapter>/exercises.ipynb`` folders (``<student>/exercises.ipynb``
        when ``chapter`` is given).
    workdir : Path
        nbgrader course folder and output folder; kept and updated from run to run.
    timeout : int, optional
        Seconds a single cell may run (``Execute.timeout`` of ``nbgrader_config.py``
        when not given).
    chapter : str, optional
        Grade only this chapter, with the flat layout.
    feedback : bool
        Write the HTML feedback pages.
    jobs : int
        Submissions graded at the same time (worker processes).
    regrade : bool
        Autograde every submission again, changed or not.
    root : Path
        The course checkout holding ``chapters/``.
    config : traitlets.config.Config, optional
        Extra nbgrader settings merged over the course's.
    forked : bool
        Run each notebook in a kernel forked from a process that has imported the
        course's libraries once (``tools/forked_kernels.py``); False: nbgrader's
        standard kernels, a new Python process each.

    Returns
    -------
    list of Entry
        One per student and chapter, with points, status and notes.
    """
    from nbgrader.api import Gradebook

    submissions, workdir = Path(submissions).resolve(), Path(workdir).resolve()
    if not submissions.is_dir():
        raise SystemExit(f"no such folder: {submissions}")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)
                                or timeout < 1):
        raise ValueError(f"timeout must be a positive integer of seconds, got {timeout!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if workdir == submissions or workdir in submissions.parents:
        raise SystemExit("the work folder must not contain the submissions")
    masters = {m.parent.name: m for m in exercise_notebooks(root)}
    if chapter is not None and chapter not in masters:
        raise SystemExit(f"unknown chapter {chapter!r}; known: {', '.join(masters)}")
    gradebook_setup()
    workdir.mkdir(parents=True, exist_ok=True)
    if forked:
        from forked_kernels import forked_config

        settings = forked_config()
        if config is not None:
            settings.merge(config)
        config = settings
    course = Course(workdir, Path(root), timeout, config)
    regrade = regrade or course.state.get("timeout") != course.timeout
    entries, batch_notes = collect(submissions, sorted(masters), chapter)

    broken: dict[str, str] = {}
    with quiet_loggers(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy and traitlets notices
        api = course.api()
        for name in sorted({e.chapter for e in entries}):
            problem = _prepare_chapter(course, api, name, masters[name])
            if problem is not None:
                broken[name] = problem
        # the students first, so that parallel workers never race to add one
        with Gradebook(course.config.CourseDirectory.db_url,
                       course.config.CourseDirectory.course_id) as gradebook:
            for student in sorted({e.student for e in entries}):
                gradebook.update_or_create_student(student)

    stale = set(course.state.get("stale", []))
    queued: list[Entry] = []
    for entry in entries:
        if entry.chapter in broken:
            entry.status = broken[entry.chapter]
            continue
        nb, problem = (None, None) if entry.notebook is None else _load(entry.notebook)
        if nb is None:
            entry.status = problem or entry.status
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # nbgrader's SQLAlchemy notices
                _zero_if_new(course, entry)
            continue
        released = read(workdir / "release" / entry.chapter / EXERCISES_NAME)
        entry.notes += _tampering(nb, released) + _audit(nb)
        if _stage(course, entry, regrade or entry.chapter in stale):
            queued.append(entry)
        else:
            entry.notes.append("unchanged since the last run: not re-graded")

    outcomes: dict[tuple[str, str], Outcome] = {}
    tasks = [(course, e.chapter, e.student) for e in queued]
    for task, outcome in zip(tasks, _run(_autograde_one, tasks, jobs), strict=True):
        outcomes[task[1], task[2]] = outcome
    pages: dict[tuple[str, str], str | None] = {}
    if feedback:
        graded: dict[str, list[str]] = {}
        for entry in queued:
            if outcomes[entry.chapter, entry.student][0] is None:
                graded.setdefault(entry.chapter, []).append(entry.student)
        # one nbgrader run per chapter; a chapter's students split when there are fewer
        # chapters than workers
        parts = max(1, -(-jobs // max(1, len(graded))))
        batches = [(course, chapter, tuple(students[i::parts]))
                   for chapter, students in graded.items()
                   for i in range(min(parts, len(students)))]
        for (_, chapter, students), (found, seconds) in zip(
                batches, _run(_feedback_chapter, batches, jobs), strict=True):
            for student in students:
                pages[chapter, student] = found[student]
                outcomes[chapter, student][1]["feedback"] = seconds / len(students)
    for entry in entries:
        error, entry.seconds = outcomes.get((entry.chapter, entry.student), (None, {}))
        if error is not None:
            entry.status = f"grading failed: {error}"
            continue
        if entry.status == "graded":
            autograded = course.path("autograded", entry.student, entry.chapter)
            entry.notes += _execution_notes(autograded / EXERCISES_NAME, course.timeout)
        if pages.get((entry.chapter, entry.student)) is not None:
            entry.notes.append(f"no feedback page: {pages[entry.chapter, entry.student]}")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _read_scores(course, [e for e in entries if e.chapter not in broken])
    course.state["stale"] = sorted(stale - {e.chapter for e in entries})
    course.state["timeout"] = course.timeout
    course.save_state()
    _write_outputs(course, entries, batch_notes)
    return entries


def report_lines(entries: list[Entry], batch_notes: list[str] | None = None) -> list[str]:
    """One line per student and chapter: points, status, notes."""
    width = max([len(e.student) for e in entries] + [7])
    lines = []
    for e in entries:
        score = f"{_fmt(e.points)}/{_fmt(e.max_points)}"
        text = "; ".join([e.status, *e.notes])
        lines.append(f"{e.student:<{width}}  {e.chapter}  {score:>7}  {text}")
    return lines + list(batch_notes or [])


def _write_outputs(course: Course, entries: list[Entry], batch_notes: list[str]) -> None:
    for name in OUTPUTS:
        course.move_aside(course.workdir / name)
    with open(course.workdir / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "chapter", "exercise", "points", "max_points"])
        for e in entries:
            for gid, (score, top) in e.scores.items():
                writer.writerow([e.student, e.chapter, gid, _fmt(score), _fmt(top)])
    with open(course.workdir / "totals.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "chapter", "points", "max_points", "status", "notes"])
        for e in entries:
            writer.writerow([e.student, e.chapter, _fmt(e.points), _fmt(e.max_points),
                             e.status, "; ".join(e.notes)])
    (course.workdir / "report.txt").write_text(
        "\n".join(report_lines(entries, batch_notes)) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Grade submitted exercise notebooks with nbgrader.",
        epilog=f"Layout: SUBMISSIONS/<student_id>/<chapter>/{EXERCISES_NAME}",
    )
    parser.add_argument("submissions", type=Path, help="one folder per student")
    parser.add_argument("--workdir", type=Path, default=ROOT / "grading",
                        help="the nbgrader course folder, kept from run to run (grading/)")
    parser.add_argument("--timeout", type=int, default=None,
                        help="seconds one cell may run (default: Execute.timeout of "
                             "nbgrader_config.py)")
    parser.add_argument("--chapter", default=None,
                        help=f"grade one chapter, layout SUBMISSIONS/<student_id>/{EXERCISES_NAME}")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                        help=f"submissions graded at once (default {DEFAULT_JOBS})")
    parser.add_argument("--no-feedback", action="store_true", help="skip the HTML feedback")
    parser.add_argument("--regrade", action="store_true",
                        help="autograde every submission again, even if unchanged")
    parser.add_argument("--standard-kernels", action="store_true",
                        help="start every kernel as a new Python process (nbgrader's "
                             "default) instead of forking it from a preloaded one")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    entries = grade(args.submissions, args.workdir, timeout=args.timeout, chapter=args.chapter,
                    feedback=not args.no_feedback, jobs=args.jobs, regrade=args.regrade,
                    forked=not args.standard_kernels)
    print((args.workdir / "report.txt").read_text(encoding="utf-8"), end="")
    if not entries:
        print("nothing to grade: no chapter folders found")
        return 1
    print(f"graded {len(entries)} submissions in {time.perf_counter() - start:.1f} s; "
          f"results in {os.path.relpath(args.workdir)}/ "
          "(grades.csv, totals.csv, report.txt, feedback/, gradebook.db)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
