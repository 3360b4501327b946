"""Shared helpers for the exercise tooling (release, grading and their tests).

The exercise notebooks ``chapters/*/exercises.ipynb`` are nbgrader masters: solution
regions between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` in solution cells, and test
cells marked ``grade: true``, some of them holding hidden tests between
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``. Everything here works on any such
notebook; nothing is specific to one chapter.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import nbformat
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[1]
EXERCISES_NAME = "exercises.ipynb"
LESSON_NAME = "lesson.ipynb"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"


def exercise_notebooks(root: Path = ROOT) -> list[Path]:
    """Return every ``chapters/*/exercises.ipynb`` under ``root``, sorted by chapter."""
    return sorted(Path(root).glob(f"chapters/*/{EXERCISES_NAME}"))


def lesson_notebooks(root: Path = ROOT) -> list[Path]:
    """Return every ``chapters/*/lesson.ipynb`` under ``root``, sorted by chapter."""
    return sorted(Path(root).glob(f"chapters/*/{LESSON_NAME}"))


def read(path: Path) -> NotebookNode:
    """Read a notebook as nbformat version 4."""
    return nbformat.read(str(path), as_version=4)


def nbgrader_meta(cell: NotebookNode) -> dict[str, Any]:
    """Return the cell's nbgrader metadata, or an empty dict."""
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def grade_id(cell: NotebookNode) -> str | None:
    """Return the cell's nbgrader ``grade_id`` or ``None``."""
    return nbgrader_meta(cell).get("grade_id")


def is_graded(cell: NotebookNode) -> bool:
    """True for an autograded test cell (``grade: true``)."""
    return bool(nbgrader_meta(cell).get("grade"))


def is_solution(cell: NotebookNode) -> bool:
    """True for a solution cell."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_locked(cell: NotebookNode) -> bool:
    """True for a cell nbgrader locks (test cells and read-only cells)."""
    return bool(nbgrader_meta(cell).get("locked"))


def has_hidden_tests(cell: NotebookNode) -> bool:
    """True if the cell's source holds a hidden-test region."""
    return BEGIN_HIDDEN in cell.get("source", "")


def tags(cell: NotebookNode) -> list[str]:
    """Return the cell's tags."""
    return list(cell.get("metadata", {}).get("tags", []))


def regions(source: str, begin: str, end: str) -> list[list[str]]:
    """Return the lines inside each ``begin`` / ``end`` region of ``source``.

    Raises
    ------
    ValueError
        If the regions are nested or not closed.
    """
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in source.splitlines():
        if begin in line:
            if current is not None:
                raise ValueError(f"nested {begin!r} region")
            current = []
        elif end in line:
            if current is None:
                raise ValueError(f"{end!r} without {begin!r}")
            found.append(current)
            current = None
        elif current is not None:
            current.append(line)
    if current is not None:
        raise ValueError(f"{begin!r} region is not closed")
    return found


def lines_outside(nb: NotebookNode, begin: str, end: str) -> set[str]:
    """Stripped source lines of ``nb`` that lie outside every ``begin``/``end`` region."""
    outside: set[str] = set()
    for cell in nb.cells:
        inside = False
        for line in cell.get("source", "").splitlines():
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            elif not inside:
                outside.add(line.strip())
    return outside


def distinctive_lines(nb: NotebookNode, begin: str, end: str, min_length: int = 16) -> list[str]:
    """Lines inside ``begin``/``end`` regions that appear nowhere else in the notebook's sources.

    Such a line showing up in a student copy or in the book means that the region leaked.
    Short lines (fewer than ``min_length`` characters once stripped) are skipped: a
    line like ``)`` or ``else:`` proves nothing.
    """
    outside = lines_outside(nb, begin, end)
    found: list[str] = []
    for cell in nb.cells:
        for region in regions(cell.get("source", ""), begin, end):
            for line in region:
                text = line.strip()
                if len(text) >= min_length and text not in outside and text not in found:
                    found.append(text)
    return found


def restore_locked_cells(student: NotebookNode, master: NotebookNode) -> NotebookNode:
    """Put the master's source back into every locked cell of ``student`` (matched by grade_id).

    This is what nbgrader's autograde does from its gradebook: the hidden tests
    come back, and any edit of a test cell is undone.
    """
    by_id = {grade_id(c): c for c in master.cells if grade_id(c) is not None}
    for cell in student.cells:
        gid = grade_id(cell)
        if gid in by_id and is_locked(by_id[gid]):
            cell.source = by_id[gid].source
    return student


def all_strings(obj: Any) -> Iterator[str]:
    """Yield every string inside a JSON-like object (notebook sources, outputs, metadata)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from all_strings(value)
    elif isinstance(obj, list | tuple):
        for value in obj:
            yield from all_strings(value)


def venv_on_path() -> None:
    """Put this interpreter's ``bin/`` first on PATH (nbgrader's gradebook runs ``alembic``)."""
    bindir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != bindir:
        os.environ["PATH"] = os.pathsep.join([bindir, *parts])


def gradebook_setup() -> None:
    """Prepare this process for nbgrader's gradebook.

    A new gradebook is stamped with the schema revision that nbgrader reads by running
    the ``alembic`` command, so the venv's ``bin/`` must be on PATH.
    """
    venv_on_path()


@contextlib.contextmanager
def quiet_loggers(level: int = logging.WARNING) -> Iterator[None]:
    """Raise the level of the chatty traitlets/nbgrader loggers for the duration."""
    names = ["traitlets", "nbgrader", "NbGraderAPI", "GenerateAssignment", "Autograde"]
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, old in saved.items():
            logging.getLogger(name).setLevel(old)


# A kernel can die while it starts for reasons outside the notebook (over TCP, another
# process may take one of the free ports jupyter_client picked for it before the kernel
# binds them), or not answer in time on a machine that is very busy. Such a start is
# tried once more, saying so on stderr; a failure in the notebook is never retried.
KERNEL_START_ATTEMPTS = 2
_KERNEL_START_MESSAGES = ("before replying to kernel_info", "Kernel didn't respond in")

T = TypeVar("T")


def is_kernel_start_failure(error: BaseException | str) -> bool:
    """True when ``error`` (an exception, or the text of a log) says the kernel never
    came up: it died, or gave no reply, before it could run a single cell."""
    if isinstance(error, BaseException):
        if not isinstance(error, RuntimeError):
            return False
        error = str(error)
    return any(message in error for message in _KERNEL_START_MESSAGES)


def retry_kernel_start(run: Callable[[], T], what: str) -> T:
    """``run()``, called once more if it raises a kernel start failure the first time.

    Parameters
    ----------
    run : callable
        Starts a kernel and executes a notebook in it.
    what : str
        What is run, for the line written to stderr when a start is retried.

    Returns
    -------
    The result of ``run()``. Any other exception, and a second failure to start, are
    raised as they are.
    """
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            return run()
        except RuntimeError as exc:
            if not is_kernel_start_failure(exc) or attempt == KERNEL_START_ATTEMPTS:
                raise
            print(f"{what}: the kernel did not start ({exc}); starting a new one",
                  file=sys.stderr)
    raise AssertionError("unreachable")


def validate_notebook(
    path: str, *, invert: bool = False, ignore_checksums: bool = False, timeout: int = 60
) -> dict[str, Any]:
    """Run nbgrader's :class:`~nbgrader.validator.Validator` on one notebook.

    Parameters
    ----------
    path : str
        The notebook; it runs in its own folder in a fresh kernel.
    invert : bool
        False: report the graded cells that fail (a master must give ``{}``).
        True: report the graded cells that pass (a student copy must give ``{}``).
    ignore_checksums : bool
        Do not report locked cells whose source changed (needed after the hidden
        tests were put back into a student copy).
    timeout : int
        Seconds a single cell may run.

    Returns
    -------
    dict
        nbgrader's result: empty when the notebook behaves as asked, otherwise keys
        such as ``"failed"``, ``"passed"``, ``"changed"`` with the offending cells.
    """
    from nbgrader.validator import Validator
    from traitlets.config import Config

    venv_on_path()
    config = Config()
    config.Execute.timeout = int(timeout)

    def run() -> dict[str, Any]:
        validator = Validator(config=config, invert=invert, ignore_checksums=ignore_checksums)
        with quiet_loggers():
            return dict(validator.validate(str(path)))

    return retry_kernel_start(run, f"validate {path}")


COURSE_CONFIG = ROOT / "nbgrader_config.py"


def course_config(workdir: Path | None = None, root: Path = ROOT) -> Any:
    """The course's nbgrader configuration (``nbgrader_config.py``), as a traitlets Config.

    Parameters
    ----------
    workdir : Path, optional
        Put everything nbgrader writes (release, submitted, autograded, feedback and
        the gradebook) in this folder instead of ``grading/``.
    root : Path
        The course checkout whose ``chapters/`` are the masters.

    Returns
    -------
    traitlets.config.Config
        The settings every ``nbgrader`` command run in the repository uses, with the
        folders moved to ``workdir`` when it is given.
    """
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader(COURSE_CONFIG.name, path=str(COURSE_CONFIG.parent)).load_config()
    config.CourseDirectory.root = str(Path(root).resolve())
    config.CourseDirectory.source_directory = str(Path(root).resolve() / "chapters")
    if workdir is not None:
        work = Path(workdir).resolve()
        for step in ("release", "submitted", "autograded", "feedback"):
            setattr(config.CourseDirectory, f"{step}_directory", str(work / step))
        config.CourseDirectory.db_url = f"sqlite:///{work / 'gradebook.db'}?timeout=60"
    return config


#: The stub nbgrader leaves in place of a solution region of a student copy.
STUB_PATTERN = re.compile(
    r"^(?P<indent>[ \t]*)# YOUR CODE HERE\n(?P=indent)raise NotImplementedError\(\)$", re.MULTILINE
)


def fill_stubs(source: str, answers: list[str | None]) -> str:
    """Type ``answers`` into the stubs of a student copy's cell, as a learner would.

    The i-th answer replaces the i-th ``# YOUR CODE HERE`` / ``raise NotImplementedError()``
    pair, indented like it; ``None`` leaves that stub in place.
    """
    import textwrap

    stubs = list(STUB_PATTERN.finditer(source))
    if len(stubs) != len(answers):
        raise ValueError(f"{len(stubs)} stubs in the cell, {len(answers)} answers given")
    out, last = [], 0
    for stub, answer in zip(stubs, answers, strict=True):
        if answer is None:
            continue
        indent = stub.group("indent")
        body = textwrap.indent(textwrap.dedent(answer).rstrip("\n"), indent,
                               predicate=lambda line: line.strip() != "")
        out += [source[last:stub.start()], body]
        last = stub.end()
    return "".join([*out, source[last:]])


def solution_texts(master_cell: NotebookNode) -> list[str]:
    """The reference answer of each solution region of a master's cell."""
    return ["\n".join(lines) for lines in regions(master_cell.source, BEGIN_SOLUTION, END_SOLUTION)]
