"""Grade the learner's own workspace with the hidden tests (``make self-grade``).

Usage: ``python tools/self_grade.py [--dir workspace] [--chapter NAME] [--timeout S] [--jobs N]``

The notebooks ``workspace/<chapter>/exercises.ipynb`` are handed to the instructor's
grading tool, ``tools/grade.py``, exactly as an instructor would grade a student named
``learner``: nbgrader's autograde runs each notebook in a fresh kernel with the hidden
tests and any edited test cell restored from the master, and writes a feedback page.
Nothing is sent anywhere; it needs only what ``requirements.txt`` installs.

Written into the workspace (replaced on every run):

- ``self-grade.csv``: ``chapter,exercise,points,max_points``, **one row per exercise**
  (its visible and hidden test cells added up), for every exercise of every chapter in
  the workspace, attempted or not, so the maximum counts the hidden tests too;
- ``self-grade/<chapter>.html``: nbgrader's feedback page of the chapter, which shows
  every test cell, hidden ones included, with the message of each failing test.

One line per exercise is printed. An exercise whose answer cells still hold
``raise NotImplementedError()`` is reported as not attempted. A chapter that could not
be graded (a notebook that is no longer a notebook, a kernel that would not start) is
reported with the reason on each of its lines, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _nbgrader_common import EXERCISES_NAME, ROOT, grade_id, is_solution, read

STUDENT = "learner"
CSV_NAME = "self-grade.csv"
FEEDBACK_DIR = "self-grade"
STUB = "raise NotImplementedError"
_EXERCISE = re.compile(r"(?:^|_)(ex\d+)(?:_|$)")


def exercise_of(gid: str) -> str:
    """The exercise a grade id belongs to: ``ch01_ex2_hidden`` -> ``ex2``."""
    match = _EXERCISE.search(gid)
    return match.group(1) if match else gid


@dataclass
class Result:
    """The points of one exercise of one chapter."""

    chapter: str
    exercise: str
    points: float
    max_points: float
    state: str  # "passed", "lost points", "not attempted", "unfinished", "not graded"
    failed: list[str]  # the test cells that lost points; for "not graded", the reason

    def line(self) -> str:
        score = f"{self.points:g}/{self.max_points:g}"
        if self.state == "not graded":
            what = f"NOT GRADED: {'; '.join(self.failed)}"
        elif self.state == "passed":
            what = "all tests passed"
        elif self.state == "not attempted":
            what = "not attempted (the answer cell still raises NotImplementedError)"
        elif self.state == "unfinished":
            what = ("unfinished: an answer cell still raises NotImplementedError; "
                    f"failed {', '.join(self.failed)}")
        else:
            what = f"failed {', '.join(self.failed)}"
        return f"{self.chapter:<24} {self.exercise:<5} {score:>7}  {what}"


def _stubbed(notebook: Path) -> dict[str, tuple[int, int]]:
    """Per exercise: (answer cells still stubbed, answer cells) in the learner's notebook."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    try:
        cells = read(notebook).cells
    except Exception:  # not a notebook any more: the grading tool says why
        return {}
    for cell in cells:
        gid = grade_id(cell)
        if gid and is_solution(cell):
            entry = counts[exercise_of(gid)]
            entry[1] += 1
            entry[0] += STUB in cell.get("source", "")
    return {key: (a, b) for key, (a, b) in counts.items()}


def workspace_chapters(workspace: Path, root: Path = ROOT) -> list[str]:
    """Chapters of the course that have an exercises notebook in the workspace."""
    known = {p.parent.name for p in Path(root).glob(f"chapters/*/{EXERCISES_NAME}")}
    return sorted(p.parent.name for p in Path(workspace).glob(f"*/{EXERCISES_NAME}")
                  if p.parent.name in known)


def self_grade(workspace: Path, *, chapter: str | None = None, timeout: int | None = None,
               jobs: int | None = None, root: Path = ROOT) -> list[Result]:
    """Grade the workspace through ``tools/grade.py``; write the CSV and feedback pages.

    Parameters
    ----------
    workspace : Path
        The learner's workspace (``workspace/<chapter>/exercises.ipynb``).
    chapter : str, optional
        Grade only this chapter.
    timeout, jobs : int, optional
        Passed on to ``tools/grade.py`` (seconds per cell, notebooks at once).
    root : Path
        The course checkout (holds ``chapters/`` and ``tools/grade.py``).

    Returns
    -------
    list of Result
        One per exercise, in chapter and exercise order.
    """
    workspace = Path(workspace).resolve()
    names = workspace_chapters(workspace, root)
    if chapter is not None:
        if chapter not in names:
            raise SystemExit(f"no {chapter}/{EXERCISES_NAME} in {workspace}")
        names = [chapter]
    if not names:
        raise SystemExit(f"no exercises in {workspace}: run `make workspace` first")
    with tempfile.TemporaryDirectory(prefix="self-grade-") as tmp:
        submissions, work = Path(tmp) / "submissions", Path(tmp) / "grading"
        for name in names:
            target = submissions / STUDENT / name / EXERCISES_NAME
            target.parent.mkdir(parents=True)
            shutil.copyfile(workspace / name / EXERCISES_NAME, target)
        command = [sys.executable, str(Path(root) / "tools" / "grade.py"), str(submissions),
                   "--workdir", str(work)]
        if timeout is not None:
            command += ["--timeout", str(timeout)]
        if jobs is not None:
            command += ["--jobs", str(jobs)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=root, check=False)
        sys.stderr.write(done.stderr)  # a kernel started again is said there
        grades = work / "grades.csv"
        if done.returncode != 0 or not grades.exists():
            sys.stderr.write(done.stdout)
            raise SystemExit(f"grading failed (tools/grade.py exited with {done.returncode})")
        rows = [r for r in csv.DictReader(grades.open(encoding="utf-8")) if r["student"] == STUDENT]
        with open(work / "totals.csv", newline="", encoding="utf-8") as handle:
            status = {r["chapter"]: r["status"] for r in csv.DictReader(handle)
                      if r["student"] == STUDENT}
        pages = Path(workspace) / FEEDBACK_DIR
        if pages.exists() and chapter is None:
            shutil.rmtree(pages)
        pages.mkdir(exist_ok=True)
        for name in names:
            page = work / "feedback" / STUDENT / name / "exercises.html"
            if page.exists():
                shutil.copyfile(page, pages / f"{name}.html")
    results: list[Result] = []
    for name in names:
        stubs = _stubbed(workspace / name / EXERCISES_NAME)
        per: dict[str, list] = {}
        for row in rows:
            if row["chapter"] != name:
                continue
            entry = per.setdefault(exercise_of(row["exercise"]), [0.0, 0.0, []])
            points, top = float(row["points"]), float(row["max_points"])
            entry[0] += points
            entry[1] += top
            if points < top:
                entry[2].append(row["exercise"])
        for key, (points, top, failed) in per.items():
            stubbed, cells = stubs.get(key, (0, 0))
            if status.get(name, "graded") != "graded":
                state, failed = "not graded", [status[name]]
            elif cells and stubbed == cells:
                state = "not attempted"
            elif points == top:
                state = "passed"
            elif stubbed:
                state = "unfinished"
            else:
                state = "lost points"
            results.append(Result(name, key, points, top, state, failed))
    _write_csv(Path(workspace) / CSV_NAME, results, keep_others=chapter is not None)
    return results


def _write_csv(path: Path, results: list[Result], keep_others: bool) -> None:
    """Write the CSV; with ``keep_others``, keep the rows of chapters not graded now."""
    graded = {r.chapter for r in results}
    rows = [[r.chapter, r.exercise, f"{r.points:g}", f"{r.max_points:g}"] for r in results]
    if keep_others and path.exists():
        with open(path, newline="", encoding="utf-8") as handle:
            old = [row for row in csv.reader(handle)][1:]
        rows = sorted([row for row in old if row and row[0] not in graded] + rows,
                      key=lambda row: row[0])  # stable: exercise order kept within a chapter
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["chapter", "exercise", "points", "max_points"])
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=ROOT / "workspace", help="the workspace")
    parser.add_argument("--chapter", default=None, help="grade one chapter only")
    parser.add_argument("--timeout", type=int, default=None, help="seconds one cell may run")
    parser.add_argument("--jobs", type=int, default=None, help="notebooks graded at once")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = self_grade(args.dir, chapter=args.chapter, timeout=args.timeout, jobs=args.jobs)
    for result in results:
        print(result.line())
    total, top = sum(r.points for r in results), sum(r.max_points for r in results)
    where = os.path.relpath(args.dir)
    print(f"total {total:g}/{top:g} points (hidden tests included) in "
          f"{time.perf_counter() - start:.1f} s; {where}/{CSV_NAME}, "
          f"feedback with every failing test's message: {where}/{FEEDBACK_DIR}/<chapter>.html")
    missed = sorted({r.chapter for r in results if r.state == "not graded"})
    if missed:
        print(f"not graded: {', '.join(missed)}. A notebook that no longer opens can be put "
              "back with `make workspace RESET=<chapter>` (your version is kept in "
              "workspace/.backup/); for anything else, run `make self-grade` again.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
