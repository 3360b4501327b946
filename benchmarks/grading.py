"""Benchmark: grade a whole class with ``tools/grade.py`` (nbgrader) and say where time goes.

Usage::

    python -m benchmarks.grading [--students 200] [--jobs 2] [--seed 0] [--keep DIR]
    make bench-grading [STUDENTS=200]

A class of ``--students`` students hands in every chapter found as
``chapters/*/exercises.ipynb``. Each (student, chapter) notebook is drawn, with a fixed
seed, from a realistic mix: correct; partial (one answer replaced by a typical mistake
from the chapter's ``mistakes.yml``, or left unanswered when there is none); one answer
that raises; one answer that loops forever (stopped at the time limit); tampered (a
test cell edited and another deleted, all else correct); not answered at all. The class
is graded once, from scratch, with the course's settings (``nbgrader_config.py``), and
the report gives notebooks per minute, the total, and the split of the workers' time:
kernel start-up, cell execution, gradebook (database) reads and writes, the rest of
nbgrader's autograde pipeline, feedback pages. The figures go to
``benchmarks/results/grading.json`` (not with ``--no-write``).

Speed is a property of the machine: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "tools"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import grade as grade_tool  # noqa: E402
import nbformat  # noqa: E402
import yaml  # noqa: E402
from _nbgrader_common import (  # noqa: E402
    BEGIN_SOLUTION,
    END_SOLUTION,
    exercise_notebooks,
    grade_id,
    is_graded,
    is_solution,
    read,
)
from release import student_copy  # noqa: E402

from benchmarks.grading_timing import timing_config  # noqa: E402

#: (kind of submission, share of the class)
MIX = [("correct", 0.55), ("partial", 0.20), ("raising", 0.08), ("looping", 0.05),
       ("tampered", 0.07), ("unanswered", 0.05)]
RESULTS = ROOT / "benchmarks" / "results" / "grading.json"


def _answer(source: str, region: str | None = None) -> str:
    """A solution cell's source with its markers removed (and its region replaced)."""
    out, inside = [], False
    for line in source.splitlines():
        if BEGIN_SOLUTION in line:
            inside = True
            if region is not None:
                indent = line[: len(line) - len(line.lstrip())]
                out += [indent + r if r else r for r in region.rstrip("\n").splitlines()]
        elif END_SOLUTION in line:
            inside = False
        elif not inside or region is None:
            out.append(line)
    return "\n".join(out) + "\n"


class Chapter:
    """What the generator needs of one chapter: its student copy, answers, mistakes."""

    def __init__(self, master: Path) -> None:
        self.name = master.parent.name
        self.released = student_copy(master)
        cells = read(master).cells
        self.answers = {grade_id(c): _answer(c.source) for c in cells if is_solution(c)}
        catalogue = master.parent / "mistakes.yml"
        entries = yaml.safe_load(catalogue.read_text()) if catalogue.exists() else []
        self.mistakes = [(m["cell"], _answer(next(c.source for c in cells
                                                   if grade_id(c) == m["cell"]), m["code"]))
                         for m in entries or [] if m.get("cell") in self.answers]
        self.tests = [grade_id(c) for c in self.released.cells if is_graded(c)]

    def submission(self, kind: str, rng: random.Random) -> nbformat.NotebookNode:
        nb = copy.deepcopy(self.released)
        answers = dict(self.answers)
        target = rng.choice(sorted(answers))
        if kind == "unanswered":
            answers = {}
        elif kind == "partial" and self.mistakes:
            cell, code = rng.choice(self.mistakes)
            answers[cell] = code
        elif kind == "partial":
            del answers[target]
        elif kind == "raising":
            answers[target] = "_broken = 1 / 0\n" + answers[target]
        elif kind == "looping":
            answers[target] = "while True:\n    pass\n" + answers[target]
        for cell in nb.cells:
            if grade_id(cell) in answers:
                cell.source = answers[grade_id(cell)]
        if kind == "tampered" and len(self.tests) >= 2:
            edited, deleted = rng.sample(self.tests, 2)
            for cell in nb.cells:
                if grade_id(cell) == edited:
                    cell.source = 'print("all tests passed")\n'
            nb.cells = [c for c in nb.cells if grade_id(c) != deleted]
        return nb


def make_class(folder: Path, students: int, seed: int) -> Counter:
    """Write ``students`` students' submissions of every chapter; return the mix."""
    rng = random.Random(seed)
    chapters = [Chapter(m) for m in exercise_notebooks(ROOT)]
    kinds, weights = zip(*MIX, strict=True)
    drawn: Counter = Counter()
    for number in range(1, students + 1):
        for chapter in chapters:
            kind = rng.choices(kinds, weights)[0]
            drawn[kind] += 1
            target = folder / f"student{number:03d}" / chapter.name / "exercises.ipynb"
            target.parent.mkdir(parents=True)
            nbformat.write(chapter.submission(kind, rng), str(target))
    return drawn


def _phases(timing_dir: Path, entries: list[Any]) -> dict[str, float]:
    """Sum of the workers' seconds per phase."""
    totals = Counter()
    for path in timing_dir.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["kind"] == "execute":
                totals["kernel start-up"] += record["kernel_start"]
                totals["cell execution"] += record["cells"]
                totals["kernel shut-down"] += (record["seconds"] - record["kernel_start"]
                                               - record["cells"])
            else:
                totals["gradebook (database)"] += record["seconds"]
    autograde = sum(e.seconds.get("autograde", 0.0) for e in entries)
    totals["rest of autograde (sanitize, copy, write)"] = autograde - sum(totals.values())
    totals["feedback pages"] = sum(e.seconds.get("feedback", 0.0) for e in entries)
    return dict(totals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=grade_tool.DEFAULT_JOBS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="keep the class and results here")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--standard-kernels", action="store_true",
                        help="a new Python process per kernel (nbgrader's default) instead "
                             "of kernels forked from a preloaded one (make grade's)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = args.keep or Path(tmp)
        timing_dir = base / "timing"
        timing_dir.mkdir(parents=True, exist_ok=True)
        os.environ["GRADING_TIMING_DIR"] = str(timing_dir)
        start = time.perf_counter()
        drawn = make_class(base / "submissions", args.students, args.seed)
        made = time.perf_counter() - start
        start = time.perf_counter()
        forked = not args.standard_kernels
        entries = grade_tool.grade(base / "submissions", base / "grading", jobs=args.jobs,
                                   config=timing_config(forked), forked=forked)
        seconds = time.perf_counter() - start
        phases = _phases(timing_dir, entries)
    notebooks = sum(1 for e in entries if e.seconds)
    failed = [f"{e.student}/{e.chapter}: {e.status}" for e in entries if e.status != "graded"]
    result = {
        "students": args.students, "chapters": len(exercise_notebooks(ROOT)),
        "notebooks_graded": notebooks, "jobs": args.jobs, "cpus": os.cpu_count(),
        "kernels": "forked" if forked else "standard",
        "python": platform.python_version(), "mix": dict(drawn),
        "class_generation_s": round(made, 1), "grading_wall_s": round(seconds, 1),
        "notebooks_per_minute": round(60 * notebooks / seconds, 1),
        "worker_seconds": {k: round(v, 1) for k, v in phases.items()},
        "not_graded": failed,
    }
    print(f"{args.students} students x {result['chapters']} chapters = {notebooks} notebooks, "
          f"{args.jobs} at a time on {os.cpu_count()} CPUs, {result['kernels']} kernels")
    print(f"mix: {', '.join(f'{k} {v}' for k, v in sorted(drawn.items()))}")
    print(f"graded in {seconds:.0f} s ({seconds / 60:.1f} min): "
          f"{result['notebooks_per_minute']} notebooks per minute")
    work = sum(phases.values())
    for phase, value in phases.items():
        print(f"  {phase:<42} {value:8.1f} s  {100 * value / work:5.1f} %  "
              f"{value / max(notebooks, 1):6.2f} s per notebook")
    if failed:
        print(f"{len(failed)} not graded: {failed[:5]}")
    if not args.no_write:
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")
        print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
