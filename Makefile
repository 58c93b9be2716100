# coa-audit developer entry points. Every target installs what it needs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE ?= sample_inventories/oem-fleet.xlsx

.PHONY: venv demo test typecheck fuzz lint format bench dist clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/coa-audit tui $(SAMPLE)

# the type check runs beside the tests that share the cores; then the tests marked serial
# (they time something or type a scanner burst) run one module at a time per core, each with
# its core to itself (--dist loadfile: a module's tests never run beside each other)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	mkdir -p .typecheck
	$(MAKE) --no-print-directory typecheck > .typecheck/mypy.log 2>&1 & tc=$$!; \
	$(BIN)/python -m pytest -n 2 -m "not serial"; rc=$$?; \
	wait $$tc; tcrc=$$?; cat .typecheck/mypy.log; \
	test $$rc -eq 0 && test $$tcrc -eq 0
	$(BIN)/python -m pytest -n 2 --dist loadfile -m serial

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

# dist/coa-audit (dist/coa-audit.exe on Windows): one file that runs with no Python on the
# target, built by PyInstaller (installed into .venv here, not a dependency of the project)
# from the wheel of this tree, with every data file the wheel ships; then the smoke checks
# of tests/test_install.py run on it (--help, check, export --evidence over 8 MB)
ONEFILE := build/onefile
EXE := $(if $(filter Windows_NT,$(OS)),.exe,)

dist: $(STAMP)
	$(BIN)/python -m pip install --quiet 'pyinstaller>=6.10,<7'
	rm -rf $(ONEFILE) build/lib build/bdist.* dist/coa-audit$(EXE)
	mkdir -p $(ONEFILE)
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir $(ONEFILE)/wheel .
	$(BIN)/python -m pip install --quiet --no-deps --no-compile --target $(ONEFILE)/stage $(ONEFILE)/wheel/coa_audit-*.whl
	printf 'from coa_audit.cli.main import main\n\nmain()\n' > $(ONEFILE)/coa-audit.py
	cd $(ONEFILE)/stage && find coa_audit -type f ! -name '*.py' ! -name '*.pyc' -exec dirname {} \; \
		| sort -u | while read d; do printf -- '--add-data=%s:%s\n' "$$PWD/$$d" "$$d"; done > ../data-args
	$(BIN)/pyinstaller --noconfirm --log-level WARN --onefile --name coa-audit \
		--distpath dist --workpath $(ONEFILE)/work --specpath $(ONEFILE) --paths $(ONEFILE)/stage \
		$$(cat $(ONEFILE)/data-args) --collect-submodules coa_audit --collect-submodules textual.widgets \
		$(ONEFILE)/coa-audit.py
	$(BIN)/python tests/test_install.py dist/coa-audit$(EXE)
	ls -l dist/coa-audit$(EXE)

clean:
	rm -rf $(VENV) .pytest_cache .typecheck build dist *.egg-info
