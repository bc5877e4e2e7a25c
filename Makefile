# Two commands matter: `make serve` and `make test`. Both set up the virtualenv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
FIXTURES ?= fixtures
STAMP := $(VENV)/.installed

.PHONY: serve test lint schemas check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/mockgw serve --host $(HOST) --port $(PORT) --fixtures $(FIXTURES)

# The Node client of examples/resilience (tests/verdict) needs node and the npm `openai` package.
NODE_EXAMPLE := examples/resilience/node
$(NODE_EXAMPLE)/node_modules: $(NODE_EXAMPLE)/package.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nodejs npm; \
	  else echo "the tests need node and npm: sudo apt-get install nodejs npm (or run make test as root)"; exit 1; fi; }
	cd $(NODE_EXAMPLE) && npm install --no-audit --no-fund --no-package-lock --silent
	touch $@

test: $(STAMP) $(NODE_EXAMPLE)/node_modules
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check mockgw scripts tests bench examples
	$(BIN)/ruff format --check mockgw scripts tests bench examples
	$(BIN)/mypy
	$(BIN)/lint-imports

schemas: $(STAMP)
	$(BIN)/python scripts/gen_schemas.py

check: $(STAMP)
	$(BIN)/mockgw check $(FIXTURES)

# A benchmark, not a test: mockgw vs a bare aiohttp handler (wrk on the other core). See docs/bench.md.
bench: $(STAMP)
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
	  else echo "make bench needs wrk: sudo apt-get install wrk (or run make bench as root)"; exit 1; fi; }
	$(BIN)/python bench/run.py
	$(BIN)/python bench/plugin_startup.py

clean:
	rm -rf $(VENV) build *.egg-info
