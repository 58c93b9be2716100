# coa-audit developer entry points. Every target installs what it needs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE ?= sample_inventories/oem-fleet.xlsx

.PHONY: venv demo test typecheck fuzz lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/coa-audit tui $(SAMPLE)

test: $(STAMP) typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 -m "not serial"
	$(BIN)/python -m pytest -m serial

# mypy reads the packages under their import name, coa_audit.*, through links
typecheck: $(STAMP)
	rm -rf .typecheck/coa_audit && mkdir -p .typecheck/coa_audit
	for p in core importers exporters session tui cli; do ln -s ../../$$p .typecheck/coa_audit/$$p; done
	cd .typecheck && $(abspath $(BIN))/mypy --config-file ../pyproject.toml -p coa_audit

# COA_FUZZ_EXAMPLES: in-process examples per target; COA_FUZZ_RUNS: generated packages and
# text files run through the installed command per target (about a second each)
fuzz: $(STAMP)
	COA_FUZZ_EXAMPLES=$${COA_FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -q tests/test_safety.py -k "fuzzed or mutated"
	COA_FUZZ_RUNS=$${COA_FUZZ_RUNS:-100} $(BIN)/python -m pytest -q tests/test_fuzz_readers.py tests/test_linear_checkers.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .typecheck build *.egg-info
