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

.PHONY: help setup book lab workspace self-grade test lint unit nbval exercises html-check browser release grade run-notebooks bench clean

help:
	@echo "make book      build the HTML book into _build/html"
	@echo "make test      run every check (lint, unit tests, notebooks, exercises, book, browser)"
	@echo "make workspace write your own copies of the chapters to workspace/ (never overwrites your work)"
	@echo "make workspace RESET=01_cross_entropy   put one chapter's copies back (yours go to workspace/.backup/)"
	@echo "make lab       open your workspace in JupyterLab (creates it if missing)"
	@echo "make self-grade   grade your workspace with the hidden tests: workspace/self-grade.csv"
	@echo "make release   write student copies of the exercises to release/"
	@echo "make grade SUBMISSIONS=dir   autograde submitted notebooks"
	@echo "make bench     accuracy and speed benchmark of the helpers"
	@echo "make run-notebooks   re-execute every notebook in place (authors)"

# -- environment -------------------------------------------------------------
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
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
test: lint unit nbval book exercises html-check browser
	@echo "All checks passed."

lint: $(STAMP)
	$(BIN)/ruff check celesson tests tools chapters benchmarks
	$(BIN)/python tools/check_notebooks.py $(NOTEBOOKS)

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests -m "not book and not browser" --ignore=tests/test_exercises.py

nbval: $(STAMP)
	$(BIN)/python -m pytest -q --nbval $(NOTEBOOKS) -p no:cacheprovider

exercises: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_exercises.py

html-check: $(STAMP)
	$(BIN)/python -m pytest -q tests -m "book"

browser: $(STAMP)
	$(BIN)/python -m pytest -q tests -m "browser"

# -- authoring ----------------------------------------------------------------
run-notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py $(NOTEBOOKS)

release: $(STAMP)
	$(BIN)/python tools/release.py

# grade a folder of submissions: make grade SUBMISSIONS=path/to/submissions
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || (echo "usage: make grade SUBMISSIONS=folder (one sub-folder per student)"; exit 2)
	$(BIN)/python tools/grade.py "$(SUBMISSIONS)" $(GRADE_ARGS)

# accuracy and speed of the cross-entropy helpers against their peers
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf _build release artifacts grading
