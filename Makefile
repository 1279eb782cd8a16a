# crm-notebooks: `make run` and `make test` are all a fresh machine needs (Python 3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 2

.PHONY: setup run test lint nbval lab bench clean

# The virtual environment, with every dependency pinned by requirements.lock.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "crm-notebooks needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev,docs,lab]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (crm-notebooks)" >/dev/null
	touch $@

setup: $(STAMP)

## make run: every notebook for every business unit on the embedded sample data -> reports/
run: $(STAMP)
	$(BIN)/crm run --jobs $(JOBS) --reports reports

## make test: lint, unit tests, then the notebooks through nbval
test: $(STAMP) lint
	$(BIN)/python -m pytest tests
	$(MAKE) --no-print-directory nbval

lint: $(STAMP)
	$(BIN)/ruff check crmlib tests bench data/cdnow/build.py

nbval: $(STAMP)
	$(BIN)/python tests/nbval/prepare.py build/nbval
	$(BIN)/python -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env -o testpaths= build/nbval

## make lab: JupyterLab on the notebooks; the parameters cells default to the sample data
lab: $(STAMP)
	cd notebooks && ../$(BIN)/jupyter lab

## make bench: the benchmarks in bench/ against the peer libraries (creates bench/.venv-peers)
bench: $(STAMP)
	bash bench/run.sh

clean:
	rm -rf reports build .pytest_cache
