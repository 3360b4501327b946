"""The exercise notebooks: masters pass, student copies fail, nothing hidden leaks.

For every ``chapters/*/exercises.ipynb`` (an nbgrader master):

- its nbgrader metadata follows the course's rules (unique ids, points, tags);
- nbgrader's ``Validator`` finds every graded cell of the master passing;
- the student copy made by ``tools/release.py`` (nbgrader's generate_assignment), with
  the hidden tests put back as autograding does, passes none of them
  (``Validator(invert=True)``);
- no hidden test and no solution appears in ``release/`` (built here into a temporary
  folder), nor in the book's HTML when ``_build/html`` exists;
- the release is the same byte for byte when made twice.

The notebook runs happen once per module, in parallel worker processes.
"""

from __future__ import annotations

import html
import importlib
import json
import multiprocessing
import os
import re
import shutil
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]

from _nbgrader_common import (  # noqa: E402
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    EXERCISES_NAME,
    all_strings,
    distinctive_lines,
    exercise_notebooks,
    grade_id,
    has_hidden_tests,
    is_graded,
    is_locked,
    is_solution,
    lesson_notebooks,
    lines_outside,
    nbgrader_meta,
    read,
    regions,
    restore_locked_cells,
    tags,
    validate_notebook,
)

# tools/release.py, imported by name at run time: a top-level release/ folder (its output)
# must not be mistaken for it by import sorting
release_tool = importlib.import_module("release")

MASTERS = exercise_notebooks(ROOT)
CHAPTERS = [m.parent.name for m in MASTERS]
VALIDATION_TIMEOUT_S = 60
BOOK_HTML = ROOT / "_build" / "html"


def _master(chapter: str) -> Path:
    return ROOT / "chapters" / chapter / EXERCISES_NAME


def _strings_of_notebook_text(text: str) -> str:
    return "\n".join(all_strings(json.loads(text)))


def _course_lines_outside(begin: str, end: str) -> set[str]:
    """Stripped source lines of every course notebook that lie outside begin/end regions."""
    lines: set[str] = set()
    for path in [*MASTERS, *lesson_notebooks(ROOT)]:
        lines |= lines_outside(read(path), begin, end)
    return lines


def _secret_lines(chapter: str, begin: str, end: str) -> list[str]:
    """Lines of the chapter's begin/end regions that occur nowhere else in the course."""
    elsewhere = _course_lines_outside(begin, end)
    return [line for line in distinctive_lines(read(_master(chapter)), begin, end)
            if line not in elsewhere]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh release of every chapter, made by tools/release.py into a temporary folder."""
    out = tmp_path_factory.mktemp("release") / "release"
    release_tool.release(ROOT, out)
    return out


@pytest.fixture(scope="module")
def validations(released: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[Any, Any]:
    """nbgrader Validator results for every master and every restored student copy."""
    restored_root = tmp_path_factory.mktemp("restored")
    jobs = {}
    workers = max(1, min(len(MASTERS) * 2, os.cpu_count() or 2))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for master in MASTERS:
            chapter = master.parent.name
            jobs[chapter, "master"] = pool.submit(
                validate_notebook, str(master), timeout=VALIDATION_TIMEOUT_S
            )
            student = restore_locked_cells(read(released / chapter / EXERCISES_NAME),
                                           read(master))
            folder = restored_root / chapter
            folder.mkdir()
            for extra in master.parent.iterdir():  # data files the exercises may read
                if extra.is_file() and extra.suffix != ".ipynb":
                    shutil.copyfile(extra, folder / extra.name)
            target = folder / EXERCISES_NAME
            nbformat.write(student, str(target))
            jobs[chapter, "student"] = pool.submit(
                validate_notebook, str(target), invert=True, ignore_checksums=True,
                timeout=VALIDATION_TIMEOUT_S,
            )
        results: dict[Any, Any] = {}
        for key, future in jobs.items():
            try:
                results[key] = future.result()
            except Exception as exc:  # reported by the test of that chapter
                results[key] = exc
    return results


def _result(validations: dict[Any, Any], chapter: str, kind: str) -> dict[str, Any]:
    result = validations[chapter, kind]
    if isinstance(result, Exception):
        pytest.fail(f"{chapter} {kind}: nbgrader could not validate: {result!r}")
    return result


# --------------------------------------------------------------------------- the tests


def test_exercise_notebooks_are_discovered() -> None:
    assert MASTERS, "no chapters/*/exercises.ipynb found"
    assert all(m.name == EXERCISES_NAME for m in MASTERS)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_nbgrader_metadata(chapter: str) -> None:
    nb = read(_master(chapter))
    assert nb.cells[0].cell_type == "markdown", "the first cell explains the exercises"
    ids = [grade_id(c) for c in nb.cells if nbgrader_meta(c)]
    assert all(ids), "every nbgrader cell needs a grade_id"
    assert len(ids) == len(set(ids)), f"duplicate grade_ids: {sorted(ids)}"
    public = 0
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        source = cell.source
        where = f"cell {grade_id(cell) or cell.get('id')}"
        if BEGIN_SOLUTION in source or END_SOLUTION in source:
            assert is_solution(cell), f"{where}: a solution region outside a solution cell"
        if BEGIN_HIDDEN in source or END_HIDDEN in source:
            assert is_graded(cell), f"{where}: hidden tests outside a graded test cell"
        if not meta:
            continue
        assert meta.get("schema_version") == 3, f"{where}: nbgrader schema_version must be 3"
        assert not meta.get("task"), f"{where}: task cells are not autograded"
        if is_solution(cell):
            assert not is_graded(cell), f"{where}: a solution cell must not be graded by hand"
            assert cell.cell_type == "code", f"{where}: solution cells are code cells"
            assert len(regions(source, BEGIN_SOLUTION, END_SOLUTION)) >= 1, (
                f"{where}: solution cell without a BEGIN/END SOLUTION region"
            )
            assert "hide-input" in tags(cell), f"{where}: solution cells carry the tag hide-input"
        if is_graded(cell):
            assert cell.cell_type == "code", f"{where}: graded cells are code cells"
            assert is_locked(cell), f"{where}: graded test cells are locked"
            assert float(meta.get("points", 0)) > 0, f"{where}: a graded cell needs points > 0"
            outputs = cell.get("outputs", [])
            assert outputs and all(o.get("output_type") == "stream" and o.get("name") == "stdout"
                                   for o in outputs), (
                f"{where}: a test cell ends by printing a success line (stored output)"
            )
        if has_hidden_tests(cell):
            assert "remove-cell" in tags(cell), f"{where}: hidden-test cells carry remove-cell"
            assert regions(source, BEGIN_HIDDEN, END_HIDDEN), f"{where}: unclosed hidden region"
        elif is_graded(cell):
            public += 1
            hidden_tags = {"remove-cell", "remove-input", "hide-input", "hide-cell"}
            assert not hidden_tags & set(tags(cell)), f"{where}: public tests stay visible"
    assert public >= 1, "give the learner at least one visible test cell"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_master_passes_all_its_tests(chapter: str, validations: dict[Any, Any]) -> None:
    result = _result(validations, chapter, "master")
    failed = [f"{c['source'][:80]!r}: {c.get('raw_error', '')[-300:]}"
              for c in result.get("failed", [])]
    assert result == {}, f"the master fails: {failed or result}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_copy_fails_every_test(chapter: str, validations: dict[Any, Any]) -> None:
    result = _result(validations, chapter, "student")
    passed = [c["source"][:120] for c in result.get("passed", [])]
    assert result == {}, f"graded cells that pass without an answer: {passed or result}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_copy_is_a_clean_nbgrader_release(chapter: str, released: Path) -> None:
    from nbgrader.utils import compute_checksum

    master = read(_master(chapter))
    student = read(released / chapter / EXERCISES_NAME)
    assert [c.cell_type for c in student.cells] == [c.cell_type for c in master.cells]
    assert all(c.get("id") in (None, s.get("id")) for c, s in zip(master.cells, student.cells,
                                                                 strict=True))
    for cell in student.cells:
        where = f"cell {grade_id(cell) or cell.get('id')}"
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{where}: output kept"
        if is_solution(cell):
            assert "raise NotImplementedError()" in cell.source, f"{where}: solution not stubbed"
        if is_locked(cell):
            assert nbgrader_meta(cell).get("checksum") == compute_checksum(cell), (
                f"{where}: checksum does not match the released source"
            )
    text = _strings_of_notebook_text((released / chapter / EXERCISES_NAME).read_text("utf-8"))
    assert BEGIN_SOLUTION not in text and END_SOLUTION not in text
    leaked = [line for line in _secret_lines(chapter, BEGIN_SOLUTION, END_SOLUTION)
              if line in text]
    assert not leaked, f"solution lines in the student copy: {leaked}"


def _released_texts(released: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(released.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(released).as_posix()
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    data = archive.read(member).decode("utf-8")
                    is_nb = member.endswith(".ipynb")
                    texts[f"{name}:{member}"] = _strings_of_notebook_text(data) if is_nb else data
        elif path.suffix == ".ipynb":
            texts[name] = _strings_of_notebook_text(path.read_text("utf-8"))
        else:
            texts[name] = path.read_text("utf-8", errors="replace")
    return texts


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_hidden_tests_are_not_released(chapter: str, released: Path) -> None:
    secrets = _secret_lines(chapter, BEGIN_HIDDEN, END_HIDDEN)
    assert secrets, "every exercises notebook has hidden tests with distinctive lines"
    texts = _released_texts(released)
    assert any(name.endswith(EXERCISES_NAME) and chapter in name for name in texts)
    for name, text in texts.items():
        assert BEGIN_HIDDEN not in text and END_HIDDEN not in text, f"hidden marker in {name}"
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"hidden-test lines of {chapter} in release/{name}: {leaked}"


_TAG = re.compile(r"<[^>]+>")


def _book_texts() -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(BOOK_HTML.rglob("*")):
        if not path.is_file() or path.stat().st_size > 20_000_000:
            continue
        name = path.relative_to(BOOK_HTML).as_posix()
        if path.suffix in {".html", ".htm"}:
            texts[name] = html.unescape(_TAG.sub("", path.read_text("utf-8", errors="replace")))
        elif path.suffix == ".ipynb":
            texts[name] = _strings_of_notebook_text(path.read_text("utf-8"))
        elif path.suffix in {".txt", ".md", ".py", ".json", ".js"}:
            texts[name] = path.read_text("utf-8", errors="replace")
        elif path.suffix == ".zip":  # the student notebooks offered for download
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    data = archive.read(member).decode("utf-8")
                    is_nb = member.endswith(".ipynb")
                    texts[f"{name}:{member}"] = _strings_of_notebook_text(data) if is_nb else data
    return texts


@pytest.mark.skipif(not BOOK_HTML.is_dir(), reason="the book is not built (_build/html)")
def test_hidden_tests_are_not_in_the_book() -> None:
    texts = _book_texts()
    for chapter in CHAPTERS:
        secrets = _secret_lines(chapter, BEGIN_HIDDEN, END_HIDDEN)
        for name, text in texts.items():
            assert BEGIN_HIDDEN not in text, f"a hidden-test marker in _build/html/{name}"
            leaked = [line for line in secrets if line in text]
            assert not leaked, f"hidden-test lines of {chapter} in _build/html/{name}: {leaked}"


DOWNLOADS = BOOK_HTML / "notebooks"


@pytest.mark.skipif(not BOOK_HTML.is_dir(), reason="the book is not built (_build/html)")
def test_book_downloads_are_student_copies_without_solutions() -> None:
    """_build/html/notebooks/ (made by `make book`) holds exactly the release, zip included."""
    assert (DOWNLOADS / release_tool.ZIP_NAME).is_file(), "make book writes the notebooks' zip"
    texts = {name: text for name, text in _book_texts().items() if name.startswith("notebooks/")}
    for chapter in CHAPTERS:
        assert f"notebooks/{chapter}/{EXERCISES_NAME}" in texts
        member = f"{release_tool.ZIP_FOLDER}/{chapter}/{EXERCISES_NAME}"
        assert f"notebooks/{release_tool.ZIP_NAME}:{member}" in texts
        solutions = _secret_lines(chapter, BEGIN_SOLUTION, END_SOLUTION)
        for name, text in texts.items():
            assert BEGIN_SOLUTION not in text, f"a solution marker in _build/html/{name}"
            leaked = [line for line in solutions if line in text]
            assert not leaked, f"solution lines of {chapter} in _build/html/{name}: {leaked}"
        student = read(DOWNLOADS / chapter / EXERCISES_NAME)
        assert all("raise NotImplementedError()" in c.source for c in student.cells
                   if is_solution(c))


@pytest.mark.skipif(not BOOK_HTML.is_dir(), reason="the book is not built (_build/html)")
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_exercises_page_links_its_notebook(chapter: str) -> None:
    page = BOOK_HTML / "chapters" / chapter / "exercises.html"
    if not page.exists():
        pytest.skip(f"{chapter}'s exercises are not in the book")
    text = page.read_text("utf-8")
    href = f"../../notebooks/{chapter}/{EXERCISES_NAME}"
    link = re.search(r'<p class="download-notebook"><a [^>]*href="([^"]+)"[^>]*>([^<]+)</a>', text)
    assert link, "no download link on the exercises page"
    assert link.group(1) == href and "Download this notebook" in link.group(2)
    assert (page.parent / href).resolve() == (DOWNLOADS / chapter / EXERCISES_NAME).resolve()
    assert (DOWNLOADS / chapter / EXERCISES_NAME).is_file()
    intro = (BOOK_HTML / "intro.html").read_text("utf-8")
    assert f'href="notebooks/{release_tool.ZIP_NAME}"' in intro, "the front page links the zip"


def test_release_is_deterministic(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    release_tool.release(ROOT, one)
    release_tool.release(ROOT, two)
    first = {p.relative_to(one): p.read_bytes() for p in one.rglob("*") if p.is_file()}
    second = {p.relative_to(two): p.read_bytes() for p in two.rglob("*") if p.is_file()}
    assert sorted(first) == sorted(second)
    differ = [str(name) for name in first if first[name] != second[name]]
    assert not differ, f"files that differ between two releases: {differ}"


def test_release_holds_every_chapter_and_the_zip(released: Path) -> None:
    expected = {f"{c}/{EXERCISES_NAME}" for c in CHAPTERS}
    expected |= {f"{p.parent.name}/lesson.ipynb" for p in lesson_notebooks(ROOT)}
    files = {p.relative_to(released).as_posix() for p in released.rglob("*") if p.is_file()}
    assert files == expected | {release_tool.ZIP_NAME}
    with zipfile.ZipFile(released / release_tool.ZIP_NAME) as archive:
        members = archive.namelist()
        assert members == sorted(members)
        assert {m.split("/", 1)[1] for m in members} == expected
        assert all(info.date_time == release_tool.ZIP_DATE for info in archive.infolist())
        for member in members:
            on_disk = released / member.split("/", 1)[1]
            assert archive.read(member) == on_disk.read_bytes(), member
    for lesson in lesson_notebooks(ROOT):
        copy = read(released / lesson.parent.name / "lesson.ipynb")
        assert all(c.get("outputs", []) == [] for c in copy.cells if c.cell_type == "code")


# ------------------------------------------------------------ starting the kernel again


def _tiny_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / "tiny.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_a_kernel_that_dies_while_starting_is_started_again(
    tmp_path: Path, failing_kernel_starts: Callable[[int, str], list[int]]
) -> None:
    starts = failing_kernel_starts(1, "Kernel died before replying to kernel_info")
    assert validate_notebook(str(_tiny_notebook(tmp_path))) == {}
    assert len(starts) == 2


def test_a_kernel_that_keeps_dying_is_reported(
    tmp_path: Path, failing_kernel_starts: Callable[[int, str], list[int]]
) -> None:
    starts = failing_kernel_starts(5, "Kernel died before replying to kernel_info")
    with pytest.raises(RuntimeError, match="kernel_info"):
        validate_notebook(str(_tiny_notebook(tmp_path)))
    assert len(starts) == 2


def test_other_errors_are_not_retried(
    tmp_path: Path, failing_kernel_starts: Callable[[int, str], list[int]]
) -> None:
    starts = failing_kernel_starts(1, "some other failure")
    with pytest.raises(RuntimeError, match="some other failure"):
        validate_notebook(str(_tiny_notebook(tmp_path)))
    assert len(starts) == 1
