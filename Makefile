# Two commands matter: `make serve` and `make test`. Both set up the virtualenv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
FIXTURES ?= fixtures
STAMP := $(VENV)/.installed

.PHONY: serve test lint schemas check bench clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/mockgw serve --host $(HOST) --port $(PORT) --fixtures $(FIXTURES)

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider

# The web inspector's browser tests drive the system's chromium (Playwright's own browser download is not used).
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "the inspector's browser tests need chromium: sudo apt-get install -y chromium"; exit 1; fi; }

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
