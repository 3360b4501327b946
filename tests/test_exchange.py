"""nbgrader's exchange end to end, as on a shared JupyterHub server, on one machine.

The test creates three Unix accounts (a teacher and two students), a course folder in
the teacher's home made of the repository's ``nbgrader_config.py``, the chapter-1 master
and the ``celesson`` package, and an exchange folder. Then, each command run by its own
account with nbgrader's command line:

teacher ``generate_assignment`` and ``release_assignment``; each student
``fetch_assignment``, answers, ``submit``; teacher ``collect``, ``autograde``,
``generate_feedback``, ``release_feedback``; each student
``fetch_feedback``. One student answers everything, the other leaves exercise 3 out;
the test checks their points in the teacher's gradebook and in their feedback pages.

Needs root (to create the accounts: CI runs as root); without root it is skipped with
that reason. The accounts must be able to run this venv's Python: a directory on the
way that other accounts cannot enter (a Python installed under ``/root``) is opened to
the three accounts only, with an ACL entry (``setfacl``) removed afterwards; without
``setfacl`` the test is skipped with the reason. The accounts, their homes and the ACL
entries are removed at the end.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]

from _nbgrader_common import grade_id  # noqa: E402
from test_grading import CHAPTER, MASTER, _master_solutions  # noqa: E402

COURSE = "cross-entropy"
BIN = Path(sys.executable).parent

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                       reason="needs root to create the teacher and student accounts"),
    pytest.mark.skipif(shutil.which("useradd") is None or shutil.which("runuser") is None,
                       reason="needs useradd and runuser to create and use the accounts"),
    pytest.mark.skipif(not MASTER.exists(), reason="chapter 1 exercises missing"),
]


def _needed_paths() -> list[Path]:
    """What the accounts must reach: the interpreter, its standard library, the venv."""
    import nbgrader

    paths = {Path(os.path.realpath(sys.executable)), Path(os.path.realpath(sys.base_prefix)),
             Path(os.path.realpath(nbgrader.__file__)), BIN / "nbgrader"}
    return sorted(paths)


def _closed_dirs(paths: list[Path]) -> list[Path]:
    """Directories on the way to ``paths`` that other accounts may not enter."""
    closed: set[Path] = set()
    for path in paths:
        for parent in path.parents:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                closed.add(parent)
    return sorted(closed)


class Accounts:
    """Unix accounts made for the test; ``run`` executes a command as one of them."""

    def __init__(self, base: Path) -> None:
        self.base, self.tag = base, secrets.token_hex(2)
        self.homes: dict[str, Path] = {}
        self.acl: list[tuple[str, Path]] = []
        self.pythonpath: dict[str, str] = {}
        (base / "home").mkdir(mode=0o755)

    def add(self, role: str) -> str:
        name = f"ce{self.tag}{role}"
        home = self.base / "home" / name
        subprocess.run(["useradd", "--create-home", "--home-dir", str(home),
                        "--shell", "/bin/sh", "--user-group", name], check=True)
        self.homes[name] = home
        return name

    def open_to(self, names: list[str], dirs: list[Path]) -> None:
        for folder in dirs:
            for name in names:
                subprocess.run(["setfacl", "-m", f"u:{name}:x", str(folder)], check=True)
                self.acl.append((name, folder))

    def run(self, name: str, *args: str, cwd: Path | None = None) -> subprocess.Popen:
        env = {"HOME": str(self.homes[name]), "USER": name, "LOGNAME": name,
               "PATH": f"{BIN}:/usr/bin:/bin", "LANG": "C.UTF-8",
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        if name in self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath[name]
        command = ["runuser", "-u", name, "--", "env", "-i",
                   *(f"{k}={v}" for k, v in env.items()), *args]
        return subprocess.Popen(command, cwd=cwd or self.homes[name], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def check(self, name: str, *args: str, cwd: Path | None = None) -> str:
        return _wait(self.run(name, *args, cwd=cwd), " ".join(args))

    def remove(self) -> list[str]:
        problems = []
        for name, folder in self.acl:
            done = subprocess.run(["setfacl", "-x", f"u:{name}", str(folder)],
                                  capture_output=True, text=True)
            if done.returncode:
                problems.append(done.stderr)
        for name in self.homes:
            done = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
            if done.returncode:
                problems.append(done.stderr)
        return problems


def _wait(process: subprocess.Popen, what: str) -> str:
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0, f"{what} failed:\n{out[-3000:]}"
    return out


def _nbgrader(*args: str) -> tuple[str, ...]:
    return (str(BIN / "nbgrader"), *args)


@pytest.fixture(scope="module")
def exchange() -> Iterator[dict]:
    if shutil.which("setfacl") is None:
        closed = _closed_dirs(_needed_paths())
        if closed:
            pytest.skip(f"other accounts cannot enter {closed[0]} (on the way to this venv's "
                        "Python) and setfacl is missing to open it to the test accounts")
    base = Path(tempfile.mkdtemp(prefix="nbgrader-exchange-"))
    base.chmod(0o755)
    accounts = Accounts(base)
    try:
        teacher = accounts.add("teach")
        students = [accounts.add("alice"), accounts.add("bob")]
        accounts.open_to([teacher, *students], _closed_dirs(_needed_paths()))
        exchange_root = base / "exchange"  # as /srv/nbgrader/exchange on a server
        exchange_root.mkdir(mode=0o777)
        exchange_root.chmod(0o777)
        # the course as the teacher keeps it: the repository's files, in her home
        course = accounts.homes[teacher] / "course"
        (course / "chapters" / CHAPTER).mkdir(parents=True)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copy(MASTER, course / "chapters" / CHAPTER)
        shutil.copytree(ROOT / "celesson", course / "celesson",
                        ignore=shutil.ignore_patterns("__pycache__"))
        accounts.pythonpath[teacher] = str(course)
        # the server-wide settings every account reads (on JupyterHub: /etc/jupyter/)
        for home in accounts.homes.values():
            (home / ".jupyter").mkdir()
            (home / ".jupyter" / "nbgrader_config.py").write_text(
                "c = get_config()  # noqa: F821\n"
                f"c.CourseDirectory.course_id = {COURSE!r}\n"
                f"c.Exchange.root = {str(exchange_root)!r}\n")
        subprocess.run(["chown", "-R", f"{teacher}:{teacher}", str(accounts.homes[teacher])],
                       check=True)
        for name in students:
            subprocess.run(["chown", "-R", f"{name}:{name}", str(accounts.homes[name])],
                           check=True)

        check = accounts.check
        check(teacher, str(BIN / "python"), "-c", "import celesson")  # can run the venv
        check(teacher, *_nbgrader("generate_assignment", CHAPTER), cwd=course)
        check(teacher, *_nbgrader("release_assignment", CHAPTER), cwd=course)
        for process in [accounts.run(s, *_nbgrader("fetch_assignment", CHAPTER)) for s in students]:
            _wait(process, "fetch_assignment")
        answers = _master_solutions()
        for name, left_out in zip(students, [set(), {"ch01_ex3_solution"}], strict=True):
            path = accounts.homes[name] / CHAPTER / "exercises.ipynb"
            nb = nbformat.read(str(path), as_version=4)
            for cell in nb.cells:
                if grade_id(cell) in answers and grade_id(cell) not in left_out:
                    cell.source = answers[grade_id(cell)]
            nbformat.write(nb, str(path))
        for process in [accounts.run(s, *_nbgrader("submit", CHAPTER)) for s in students]:
            _wait(process, "submit")
        check(teacher, *_nbgrader("collect", CHAPTER), cwd=course)
        check(teacher, *_nbgrader("autograde", CHAPTER), cwd=course)
        check(teacher, *_nbgrader("generate_feedback", CHAPTER), cwd=course)
        check(teacher, *_nbgrader("release_feedback", CHAPTER), cwd=course)
        for process in [accounts.run(s, *_nbgrader("fetch_feedback", CHAPTER)) for s in students]:
            _wait(process, "fetch_feedback")
        yield {"course": course, "students": students, "homes": accounts.homes}
    finally:
        problems = accounts.remove()
        shutil.rmtree(base, ignore_errors=True)
        assert not problems, f"could not clean up the test accounts: {problems}"


def test_collected_submissions_are_autograded(exchange: dict) -> None:
    alice, bob = exchange["students"]
    course = exchange["course"]
    for name in (alice, bob):
        assert (course / "grading" / "submitted" / name / CHAPTER / "exercises.ipynb").exists()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'grading' / 'gradebook.db'}", COURSE) as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions(CHAPTER)}
    assert scores == {alice: 10.0, bob: 7.0}  # bob left out exercise 3 (1 + 2 points)


def test_each_student_fetches_her_own_feedback(exchange: dict) -> None:
    alice, bob = exchange["students"]
    for name, score in ((alice, "10.0 / 10.0"), (bob, "7.0 / 10.0")):
        pages = list((exchange["homes"][name] / CHAPTER / "feedback").glob("*/exercises.html"))
        assert len(pages) == 1, pages
        text = pages[0].read_text()
        assert f"Score: {score}" in text
        assert "Exercise 2: hidden tests passed." in text
