# The README's commands. Each target sets itself up: it creates .venv when
# missing and installs the project with the exact pins of constraints.txt.
#   make figures [CORES=nproc] [SCALE=paper|quick]    regenerate every figure and verdict
#   make test                                      the test suite
#   make test-slurm                                the pipeline on a one-node Slurm (root, Debian)
#   make report                                    results/report.html

PYTHON ?= python3
VENV ?= .venv
CORES ?= $(shell nproc 2>/dev/null || echo 8)
SCALE ?= paper
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup figures test test-slurm report lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, alone: pip then takes the pinned CPU build and torchvision adds no CUDA packages.
	$(BIN)/python -m pip install --quiet -c constraints.txt torch
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	# MathJax's files for offline math, without the Jupyter Server they are packaged for.
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt jupyter-server-mathjax
	touch $@

figures: setup
	$(BIN)/snakemake --cores $(CORES) --config scale=$(SCALE)

test: setup
	$(BIN)/python -m pytest

test-slurm: setup
	bash tests/cluster/slurm_test.sh

report: figures
	$(BIN)/snakemake --cores $(CORES) --config scale=$(SCALE) --report results/report.html

lock: setup
	{ sed -n '1,2p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > constraints.tmp && mv constraints.tmp constraints.txt

clean:
	rm -rf results figures/*/ .snakemake
