# One command per job. Every target sets up what it needs from a fresh clone.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
# nbgrader starts `alembic` as a subprocess: the venv's bin/ must be on PATH.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export MPLBACKEND ?= Agg
ASG     ?=
WORKERS ?= 2

.PHONY: setup system-deps demo test test-fast lab build check bench clean

$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "the workbook needs Python 3.11 or newer (NumPy 2.4 does); $(PYTHON) is " + sys.version.split()[0] + ": try PYTHON=python3.13 make ...")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed            ## virtual environment with every Python dependency

system-deps:                          ## PostgreSQL and Chromium for the integration tests (root only; skipped otherwise)
	@bash .ci/system-deps.sh

demo: setup                           ## build the release, grade a demo class per assignment, print the tables
	$(PY) -m course demo --workers $(WORKERS)

test: setup system-deps               ## the whole test suite
	$(PY) -m pytest -n 2 --dist loadscope

test-fast: setup                      ## the quick tests on 2 processes, under a minute (no slow, browser, PostgreSQL or Dask test)
	$(PY) -m pytest -n 2 -m "not slow and not browser and not postgres and not dask"

lab: setup                            ## JupyterLab on the release notebooks
	$(PY) -m course lab

build: setup                          ## regenerate release/ from source/
	$(PY) -m course build $(ASG)

check: setup                          ## source earns full marks, release earns zero
	$(PY) -m course check $(ASG)

bench: setup                          ## rerun the benchmarks, write benchmarks/results.json
	$(PY) -m course bench

clean:
	rm -rf submitted/* autograded/* feedback/* reports gradebook.db
	touch submitted/.gitkeep autograded/.gitkeep feedback/.gitkeep
