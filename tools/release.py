"""Write the student copies of the course notebooks to ``release/``.

Usage: ``python tools/release.py [--out DIR]`` (``make release``)

For every ``chapters/<chapter>/exercises.ipynb`` (an nbgrader master) this runs
nbgrader's own ``generate_assignment`` pipeline, without a gradebook, in a temporary
nbgrader course folder: solutions become ``raise NotImplementedError()``, hidden tests
are removed, outputs are cleared, test cells are locked and checksummed. The result
goes to ``release/<chapter>/exercises.ipynb``. Every ``chapters/<chapter>/lesson.ipynb``
is copied to ``release/<chapter>/lesson.ipynb`` with its outputs cleared (lessons hold
no graded cells). All of it is also packed into ``release/course-exercises.zip``.

The output is deterministic byte for byte: notebooks are written with sorted keys and
no execution metadata, and the zip has fixed timestamps, permissions and order.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _nbgrader_common import (
    EXERCISES_NAME,
    LESSON_NAME,
    ROOT,
    exercise_notebooks,
    lesson_notebooks,
    quiet_loggers,
    read,
)

ZIP_NAME = "course-exercises.zip"
ZIP_FOLDER = "course-exercises"
ZIP_DATE = (2024, 1, 1, 0, 0, 0)


def _normalise(nb: NotebookNode) -> NotebookNode:
    """Drop run-specific metadata so that two releases are identical byte for byte."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def _stable_ids(nb: NotebookNode) -> NotebookNode:
    """Give cells without an id a fixed one (else every read would draw a random id)."""
    if nb.nbformat_minor < 5 or any("id" not in cell for cell in nb.cells):
        nb.nbformat_minor = max(nb.nbformat_minor, 5)
        for index, cell in enumerate(nb.cells):
            cell.setdefault("id", f"cell-{index:03d}")
    return nb


def notebook_text(nb: NotebookNode) -> str:
    """The text of a notebook as the release writes it (the same bytes every time)."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def _write(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_text(nb), encoding="utf-8")


def student_copy(master: Path) -> NotebookNode:
    """Return the student copy of one nbgrader master, made by ``generate_assignment``.

    Parameters
    ----------
    master : Path
        An exercises notebook in nbgrader format.

    Returns
    -------
    NotebookNode
        The released notebook: solutions stubbed, hidden tests removed, outputs
        cleared, test cells locked with checksums.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    master = Path(master)
    assignment = master.parent.name
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        course = Path(tmp)
        source = course / "source" / assignment
        source.mkdir(parents=True)
        _write(_stable_ids(read(master)), source / master.name)
        config = Config()
        config.CourseDirectory.root = str(course)
        config.CourseDirectory.assignment_id = assignment
        config.GenerateAssignment.no_database = True
        config.SaveCells.enabled = False
        config.GenerateAssignment.force = True
        log = logging.getLogger("release")
        with quiet_loggers():
            coursedir = CourseDirectory(config=config, log=log)
            converter = GenerateAssignment(coursedir=coursedir, config=config, log=log)
            converter.start()
        released = course / "release" / assignment / master.name
        if not released.exists():
            raise RuntimeError(f"nbgrader did not write a student copy of {master}")
        nb = read(released)
    return _normalise(nb)


def lesson_copy(lesson: Path) -> NotebookNode:
    """Return a lesson notebook with every output and execution count cleared."""
    return _normalise(_stable_ids(read(lesson)))


def _zip(out: Path, files: list[Path]) -> Path:
    target = out / ZIP_NAME
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(files, key=lambda p: p.relative_to(out).as_posix()):
            info = zipfile.ZipInfo(f"{ZIP_FOLDER}/{path.relative_to(out).as_posix()}", ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return target


def _prepare(out: Path) -> None:
    """Empty ``out`` if it is a previous release (never touch a folder that is not)."""
    if out.exists():
        previous = (out / ZIP_NAME).exists() or not any(out.iterdir())
        if not previous:
            raise SystemExit(
                f"refusing to overwrite {out}: it is not empty and holds no {ZIP_NAME}"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True)


def release(root: Path = ROOT, out: Path | None = None) -> list[Path]:
    """Write every student copy and the zip; return the written files (zip last).

    Parameters
    ----------
    root : Path
        The course checkout (holds ``chapters/``).
    out : Path, optional
        Output folder, ``<root>/release`` by default. An existing previous release
        there is replaced.
    """
    root = Path(root)
    out = Path(out) if out is not None else root / "release"
    _prepare(out)
    written: list[Path] = []
    for master in exercise_notebooks(root):
        target = out / master.parent.name / EXERCISES_NAME
        _write(student_copy(master), target)
        written.append(target)
    for lesson in lesson_notebooks(root):
        target = out / lesson.parent.name / LESSON_NAME
        _write(lesson_copy(lesson), target)
        written.append(target)
    written.append(_zip(out, written))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="output folder (release/)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    files = release(ROOT, args.out)
    for path in files:
        print(os.path.relpath(path))
    print(f"{len(files)} files written in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
