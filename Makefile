# The two commands: `make run` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MNIST_SRC ?= ../shared/data/mnist

.PHONY: venv run test mnist clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: venv
	$(BIN)/python benchmarks/run.py --table=quick --workdir=runs/quick

test: venv
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests

# Build the tfds `mnist` dataset offline from the official idx files, into the data dir that
# every command reads by default: $TFDS_DATA_DIR, else ~/tensorflow_datasets.
mnist: venv
	$(BIN)/python -m local_learning.data.prepare --dataset=mnist --source=$(MNIST_SRC)

clean:
	rm -rf $(VENV) runs *.egg-info
