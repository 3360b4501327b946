"""Write the learner's own copies of the course into ``workspace/`` (``make workspace``).

Usage: ``python tools/workspace.py [--dir workspace] [--reset CHAPTER]``

For every chapter this writes ``workspace/<chapter>/exercises.ipynb``, the student copy
made by the release pipeline (``tools/release.py``: nbgrader's ``generate_assignment``,
so solutions are stubbed, hidden tests removed, outputs cleared), and
``workspace/<chapter>/lesson.ipynb``, the lesson with its outputs cleared.

The learner's work is never overwritten. ``workspace/.workspace.json`` records a
SHA-256 digest of every file as it was written; on the next run

- a file that is missing is added;
- a file the learner has not changed (its digest is the recorded one) is brought up to
  date when the course changed;
- a file the learner has changed is left alone, with one line saying so.

``--reset CHAPTER`` (``make workspace RESET=<chapter>``) puts the course's copies of one
chapter back; the learner's changed files are first moved to
``workspace/.backup/<chapter>/<n>/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _nbgrader_common import EXERCISES_NAME, LESSON_NAME, ROOT

MANIFEST = ".workspace.json"
BACKUP = ".backup"
#: Files of a chapter folder that stay out of the workspace besides the notebooks:
#: the catalogue of wrong answers is for the course's own checks.
NOT_COPIED = {"mistakes.yml"}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chapters(root: Path = ROOT) -> list[str]:
    """Every chapter folder that holds a lesson or an exercises notebook, sorted."""
    found = {p.parent.name for p in Path(root).glob(f"chapters/*/{EXERCISES_NAME}")}
    found |= {p.parent.name for p in Path(root).glob(f"chapters/*/{LESSON_NAME}")}
    return sorted(found)


def course_files(chapter: str, root: Path = ROOT) -> dict[str, bytes]:
    """The workspace files of one chapter: ``{relative path: content}``."""
    from release import lesson_copy, notebook_text, student_copy

    folder = Path(root) / "chapters" / chapter
    files: dict[str, bytes] = {}
    if (folder / EXERCISES_NAME).exists():
        files[f"{chapter}/{EXERCISES_NAME}"] = notebook_text(
            student_copy(folder / EXERCISES_NAME)).encode("utf-8")
    if (folder / LESSON_NAME).exists():
        files[f"{chapter}/{LESSON_NAME}"] = notebook_text(
            lesson_copy(folder / LESSON_NAME)).encode("utf-8")
    for extra in sorted(folder.iterdir()):  # data files a notebook may read
        if (extra.is_file() and extra.suffix != ".ipynb" and extra.name not in NOT_COPIED
                and not extra.name.startswith(".")):
            files[f"{chapter}/{extra.name}"] = extra.read_bytes()
    return files


def _load_manifest(out: Path) -> dict[str, str]:
    try:
        return dict(json.loads((out / MANIFEST).read_text("utf-8")))
    except (FileNotFoundError, ValueError):
        return {}


def _save_manifest(out: Path, manifest: dict[str, str]) -> None:
    text = json.dumps(dict(sorted(manifest.items())), indent=1) + "\n"
    (out / MANIFEST).write_text(text, encoding="utf-8")


def _backup(out: Path, chapter: str, paths: list[Path]) -> Path:
    base = out / BACKUP / chapter
    number = 1
    while (base / str(number)).exists():
        number += 1
    target = base / str(number)
    target.mkdir(parents=True)
    for path in paths:
        shutil.move(str(path), str(target / path.name))
    return target


def update(out: Path, root: Path = ROOT, reset: str | None = None) -> list[str]:
    """Bring the workspace ``out`` up to date; return one line per thing done.

    Parameters
    ----------
    out : Path
        The workspace folder (created when missing).
    root : Path
        The course checkout holding ``chapters/``.
    reset : str, optional
        A chapter whose files are restored even if the learner changed them (the
        changed ones are moved to ``out/.backup/<chapter>/<n>/`` first).

    Returns
    -------
    list of str
        What was added, updated, kept or restored, one line each.
    """
    out = Path(out)
    names = chapters(root)
    if reset is not None and reset not in names:
        raise SystemExit(f"unknown chapter {reset!r} for RESET; chapters: {', '.join(names)}")
    out.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(out)
    lines: list[str] = []
    rel = os.path.relpath(out)
    for chapter in names:
        files = course_files(chapter, root)
        mine: list[str] = []  # files the learner has changed
        for name, data in files.items():
            path = out / name
            if path.exists():
                current = path.read_bytes()
                if current != data and _digest(current) != manifest.get(name):
                    mine.append(name)
        if chapter == reset and mine:
            saved = _backup(out, chapter, [out / name for name in mine])
            lines.append(f"saved    your changed files of {chapter} to {os.path.relpath(saved)}/")
        for name, data in files.items():
            path = out / name
            if name in mine and chapter != reset:
                lines.append(f"kept     {rel}/{name}: you have changed it "
                             f"(make workspace RESET={chapter} restores the course's copy)")
                continue
            if path.exists() and path.read_bytes() == data:
                manifest[name] = _digest(data)
                continue
            verb = "restored" if name in mine else ("updated" if path.exists() else "added")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            manifest[name] = _digest(data)
            lines.append(f"{verb:<8} {rel}/{name}")
    _save_manifest(out, manifest)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=ROOT / "workspace",
                        help="the workspace folder (workspace/)")
    parser.add_argument("--reset", default=None, metavar="CHAPTER",
                        help="restore the course's copies of one chapter")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    lines = update(args.dir, ROOT, reset=args.reset or None)
    for line in lines:
        print(line)
    if not lines:
        print(f"{os.path.relpath(args.dir)}/ is up to date")
    print(f"workspace ready in {time.perf_counter() - start:.1f} s: {os.path.relpath(args.dir)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
