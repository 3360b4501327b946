# The few commands people run. Each target sets up the environment it needs.
# `make book` builds the HTML book; `make test` runs every check.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard chapters/*/*.ipynb))

# One BLAS thread everywhere: the same summation order on every run, so stored
# notebook outputs are reproduced exactly (and two cores are not oversubscribed).
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

# The checks start hundreds of Python processes (kernels, nbgrader commands, pytest
# workers). Each must find the bytecode of numpy, IPython, nbgrader... that the first
# one wrote, or it compiles them from source again: a PYTHONDONTWRITEBYTECODE set in the
# caller's environment would cost every one of them seconds (the unit tests took 1.7
# times as long, the whole of `make test` 1.3 times). It is not passed on to what make runs.
unexport PYTHONDONTWRITEBYTECODE

# Strict nbval: every stored output is compared. Notebooks are spread over two workers,
# each notebook's cells kept together in one kernel.
NBVAL := -m pytest -q --nbval -p no:cacheprovider -n 2 --dist loadfile

# numpy's narrowest SIMD dispatch (the x86-64 baseline: no AVX2, no AVX-512) and a
# pre-AVX OpenBLAS kernel. Stored outputs must not depend on the reader's CPU, so strict
# nbval runs a second time with these (`python -c "import numpy; numpy.show_runtime()"`
# shows what is active).
BASELINE_SIMD := NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR" \
                 OPENBLAS_CORETYPE=Nehalem

# A second Python version for the unit tests and strict nbval, found on PATH or under
# pyenv (tools/find_python.py); a missing interpreter is reported, not fatal.
OTHER_PYTHON ?= 3.13

.PHONY: help lint-and-book setup venvs other-python-setup book pdf lab workspace self-grade test lint unit nbval nbval-baseline other-python other-python-checks browser-slow torch-parity chromium exercises html-check browser release grade run-notebooks bench bench-grading clean

help:
	@echo "make book      build the HTML book into _build/html"
	@echo "make test      run every check (lint, unit tests, notebooks, exercises, book, browser)"
	@echo "make pdf       the book as one PDF, _build/html/course.pdf (linked from the front page)"
	@echo "make workspace write your own copies of the chapters to workspace/ (never overwrites your work)"
	@echo "make workspace RESET=01_cross_entropy   put one chapter's copies back (yours go to workspace/.backup/)"
	@echo "make lab       open your workspace in JupyterLab (creates it if missing)"
	@echo "make self-grade   grade your workspace with the hidden tests: workspace/self-grade.csv"
	@echo "make release   write student copies of the exercises to release/"
	@echo "make grade SUBMISSIONS=dir   autograde submitted notebooks into grading/ (nbgrader)"
	@echo "make bench     accuracy and speed benchmark of the helpers"
	@echo "make nbval-baseline   strict nbval with numpy's wider SIMD kernels switched off"
	@echo "make other-python     unit tests and strict nbval on Python $(OTHER_PYTHON) (OTHER_PYTHON=3.12 for another)"
	@echo "make bench-grading [STUDENTS=200]   time the grading of a generated class"
	@echo "make torch-parity     the losses against PyTorch itself (own venv .venv-torch, Python 3.11)"
	@echo "make run-notebooks   re-execute every notebook in place (authors)"

# -- environment -------------------------------------------------------------
# --no-compile: Python compiles a module when it is first imported, and most of the
# installed files never are (the install takes a third of the CPU time it takes otherwise);
# the bytecode is written then (see PYTHONDONTWRITEBYTECODE above)
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-compile --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

vendor/.mathjax: $(STAMP) tools/fetch_assets.py
	$(BIN)/python tools/fetch_assets.py
	touch $@

# -- reading ------------------------------------------------------------------
# The build also writes the student copies (tools/release.py's pipeline) into
# _build/html/notebooks/ and links them from every exercises page (tools/book_downloads.py).
book: $(STAMP) vendor/.mathjax
	$(BIN)/jupyter-book build . --builder html --warningiserror --nitpick --keep-going
	@echo
	@echo "The book is ready: open $(CURDIR)/_build/html/index.html in a browser."

# the whole book as one PDF, printed by Chromium from the HTML book (tools/make_pdf.py)
pdf: book chromium
	$(BIN)/python tools/make_pdf.py

# -- learning -----------------------------------------------------------------
# Your own copies: student copies of the exercises and the lessons, in workspace/.
WORKSPACE ?= workspace
workspace: $(STAMP)
	PYTHONPATH=$(CURDIR) $(BIN)/python tools/workspace.py --dir "$(WORKSPACE)" $(if $(RESET),--reset "$(RESET)")

lab: $(STAMP)
	@test -d "$(WORKSPACE)" || PYTHONPATH=$(CURDIR) $(BIN)/python tools/workspace.py --dir "$(WORKSPACE)"
	PYTHONPATH=$(CURDIR) $(BIN)/jupyter lab "$(WORKSPACE)" $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# grade your workspace with the hidden tests (the instructor's grading, run locally)
self-grade: $(STAMP)
	PYTHONPATH=$(CURDIR) $(BIN)/python tools/self_grade.py --dir "$(WORKSPACE)" $(if $(CHAPTER),--chapter "$(CHAPTER)")

# -- checking -----------------------------------------------------------------
# The parts of `make test`, in order; lint (ruff, mypy) and the book's build each use one
# core, so they run side by side. At the end, each part's wall and CPU time is printed.
TEST_PARTS := venvs chromium lint-and-book unit nbval exercises html-check browser other-python
test:
	@$(PYTHON) tools/time_parts.py $(MAKE) $(TEST_PARTS)
	@echo "All checks passed."

lint-and-book:
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint book

# the browser tests need a Chromium: stop at once, with one line saying how to get one
chromium: $(STAMP)
	@$(BIN)/python tools/find_chromium.py >/dev/null || ($(BIN)/python tools/find_chromium.py; exit 1)

lint: $(STAMP)
	$(BIN)/ruff check celesson tests tools chapters benchmarks
	$(BIN)/mypy
	$(BIN)/python tools/check_notebooks.py $(NOTEBOOKS)

# whole test files per worker: a module's costly fixtures (a graded class, a workspace
# graded with the hidden tests) are made once, not once on each worker
unit: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests celesson -m "not book and not browser" --ignore=tests/test_exercises.py

nbval: $(STAMP)
	$(BIN)/python $(NBVAL) $(NOTEBOOKS)

nbval-baseline: $(STAMP)
	@if [ "$$(uname -m)" = x86_64 ]; then \
	    echo "strict nbval at numpy's baseline SIMD dispatch and OpenBLAS's Nehalem kernel"; \
	    $(BASELINE_SIMD) $(BIN)/python $(NBVAL) $(NOTEBOOKS); \
	else \
	    echo "nbval-baseline: skipped on $$(uname -m) (the pass names x86-64 SIMD levels)"; \
	fi

# The second Python and the narrowest SIMD dispatch in one pass: in .venv-$(OTHER_PYTHON),
# the package's unit tests and strict nbval at the baseline dispatch (the tools'
# integration tests, which start kernels and servers, run once, on the main Python).
# Without that interpreter the baseline pass runs on the main Python instead.
TOOL_TESTS := tests/test_grading.py tests/test_exchange.py tests/test_mistakes.py \
              tests/test_workspace.py
other-python:
	@py="$$($(PYTHON) tools/find_python.py $(OTHER_PYTHON))"; \
	if [ -z "$$py" ]; then \
	    echo "other-python: no Python $(OTHER_PYTHON) on PATH or under pyenv: skipped"; \
	    $(MAKE) --no-print-directory nbval-baseline; \
	else \
	    echo "unit tests and strict nbval at numpy's baseline SIMD dispatch on $$py"; \
	    $(MAKE) --no-print-directory other-python-checks PYTHON="$$py" VENV=.venv-$(OTHER_PYTHON); \
	fi

# both environments of `make test` installed side by side (pip uses one core)
venvs:
	@$(MAKE) --no-print-directory -j2 setup other-python-setup

other-python-setup:
	@py="$$($(PYTHON) tools/find_python.py $(OTHER_PYTHON))"; \
	if [ -n "$$py" ]; then \
	    $(MAKE) --no-print-directory setup PYTHON="$$py" VENV=.venv-$(OTHER_PYTHON); \
	fi

other-python-checks: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 tests celesson -m "not book and not browser" \
	    --ignore=tests/test_exercises.py $(addprefix --ignore=,$(TOOL_TESTS))
	@if [ "$$(uname -m)" = x86_64 ]; then \
	    $(BASELINE_SIMD) $(BIN)/python $(NBVAL) $(NOTEBOOKS); \
	else \
	    $(BIN)/python $(NBVAL) $(NOTEBOOKS); \
	fi

# celesson's losses against PyTorch in float64 (tests/test_pytorch_parity.py). PyTorch is
# no requirement of the course: it goes into its own venv, made with Python 3.11 (the
# version its CPU wheel is installed for here). Where that venv cannot be made, one line
# says why and the target succeeds without running the test.
TORCH_PYTHON ?= 3.11
TORCH_VENV   := .venv-torch
TORCH_PINS   := torch==2.13.0 numpy==2.4.6 mpmath==1.3.0 pytest==9.2.0 hypothesis==6.170.15
# optional: the Keras 3 (PyTorch backend) and optax rows of chapter 7's table
TORCH_EXTRAS := keras==3.15.1 jax==0.10.2 jaxlib==0.10.2 optax==0.2.8

$(TORCH_VENV)/.installed: requirements.txt
	@py="$$($(PYTHON) tools/find_python.py $(TORCH_PYTHON))"; \
	if [ -z "$$py" ]; then \
	    echo "torch-parity: no Python $(TORCH_PYTHON) on PATH or under pyenv"; exit 1; \
	fi; \
	rm -rf $(TORCH_VENV) && "$$py" -m venv $(TORCH_VENV) && \
	$(TORCH_VENV)/bin/python -m pip install --quiet $(TORCH_PINS) 2>$(TORCH_VENV)/pip-error.log && \
	{ $(TORCH_VENV)/bin/python -m pip install --quiet $(TORCH_EXTRAS) 2>/dev/null || \
	  echo "torch-parity: Keras and optax not installed, their rows of chapter 7's table are skipped"; } && \
	touch $@

torch-parity:
	@if $(MAKE) --no-print-directory $(TORCH_VENV)/.installed >/dev/null 2>&1; then \
	    PYTHONPATH=$(CURDIR) $(TORCH_VENV)/bin/python -m pytest -q -p no:cacheprovider \
	        tests/test_pytorch_parity.py; \
	else \
	    why="$$(tail -n 1 $(TORCH_VENV)/pip-error.log 2>/dev/null)"; \
	    echo "torch-parity: skipped, PyTorch could not be installed ($${why:-no Python $(TORCH_PYTHON) found})"; \
	fi

exercises: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_exercises.py

html-check: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests -m "book"

# the browser tests; the slow ones (every lesson run in JupyterLab) with `make browser-slow`
# a worker that runs JupyterLab tests starts one server, in a workspace folder of its own
browser: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist load tests -m "browser and not slow"

browser-slow: $(STAMP)
	$(BIN)/python -m pytest -q tests -m "browser and slow"

# -- authoring ----------------------------------------------------------------
run-notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py $(NOTEBOOKS)

release: $(STAMP)
	$(BIN)/python tools/release.py

# grade a folder of submissions with nbgrader: make grade SUBMISSIONS=path/to/submissions
# (grading/ is the nbgrader course folder of nbgrader_config.py; nothing in it is deleted)
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || (echo "usage: make grade SUBMISSIONS=folder (one sub-folder per student)"; exit 2)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python tools/grade.py "$(SUBMISSIONS)" $(GRADE_ARGS)

# accuracy and speed of the cross-entropy helpers against their peers
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# grade a generated class of $(STUDENTS) students across every chapter, report the time
# (JOBS=n: notebooks graded at once, default 2)
STUDENTS ?= 200
bench-grading: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m benchmarks.grading --students $(STUDENTS) $(if $(JOBS),--jobs $(JOBS))

# grading/ holds the gradebook (manual grades, comments): `make clean` leaves it alone
clean:
	rm -rf _build release artifacts
