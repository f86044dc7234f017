# The two commands: `make run` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MNIST_SRC ?= ../shared/data/mnist

.PHONY: venv run test lint docs mnist clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,docs]'
	touch $(STAMP)

run: venv
	$(BIN)/python benchmarks/run.py --table=quick --workdir=runs/quick --jobs=2

test: venv
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=15 tests

# ruff (lint, import order) and ty (types, basic checks) over the project's code.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ty check local_learning rules

# The documentation site, built with --strict (broken links and references fail) into site/.
docs: venv
	$(BIN)/mkdocs build --strict --site-dir site

# Build the tfds `mnist` dataset offline from the official idx files, into the data dir that
# every command reads by default: $TFDS_DATA_DIR, else ~/tensorflow_datasets.
mnist: venv
	$(BIN)/python -m local_learning.data.prepare --dataset=mnist --source=$(MNIST_SRC)

clean:
	rm -rf $(VENV) runs *.egg-info
