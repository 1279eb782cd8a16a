# crm-notebooks: `make run` and `make test` are all a fresh machine needs (Python 3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 2
# Sphinx: a docstring that does not render is an error (make docs SPHINXOPTS= to only warn)
SPHINXOPTS ?= -W --keep-going

.PHONY: setup run test lint doctest nbval docs lab bench clean

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

## make test: lint and the layer contract, unit tests, doctests, the notebooks through nbval, the docs
test: $(STAMP) lint
	$(BIN)/python -m pytest tests
	$(MAKE) --no-print-directory doctest
	$(MAKE) --no-print-directory nbval
	$(MAKE) --no-print-directory docs

## make lint: ruff, and import-linter on the layer order of crmlib ([tool.importlinter])
lint: $(STAMP)
	$(BIN)/ruff check crmlib tests bench data/cdnow/build.py docs
	$(BIN)/lint-imports

## make doctest: every `>>>` example in the docstrings of crmlib
doctest: $(STAMP)
	CRM_CACHE_DIR=$(CURDIR)/build/cache-doctest MPLBACKEND=Agg $(BIN)/python -m pytest -q --doctest-modules crmlib

nbval: $(STAMP)
	$(BIN)/python tests/nbval/prepare.py build/nbval
	CRM_CACHE_DIR=$(CURDIR)/build/cache-nbval $(BIN)/python -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env -o testpaths= build/nbval

## make docs: the documentation (docs/: user guide, data contract, API reference) -> build/docs
docs: $(STAMP)
	$(BIN)/python docs/_build_contract.py --check
	$(BIN)/python -m sphinx -b html $(SPHINXOPTS) -q docs build/docs
	@echo "open build/docs/index.html"

## make lab: JupyterLab on the notebooks; the parameters cells default to the sample data
lab: $(STAMP)
	cd notebooks && ../$(BIN)/jupyter lab

## make bench: the benchmarks in bench/ against the peer libraries (creates bench/.venv-peers)
bench: $(STAMP)
	bash bench/run.sh

clean:
	rm -rf reports build .pytest_cache
