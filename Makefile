# Two commands matter: `make serve` and `make test`. Both set up the virtualenv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
FIXTURES ?= fixtures
SERVE_STAMP := $(VENV)/.installed-serve
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: serve test lint schemas check bench bench-profile dist clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# `make serve` installs only what serving needs, the runtime dependencies listed in pyproject.toml, and runs mockgw
# from this folder (python -m): no package build, so a fresh clone answers in seconds.
RUNTIME_DEPS = $(shell $(PYTHON) -c "import tomllib; print(' '.join(repr(d) for d in tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))")
$(SERVE_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet $(RUNTIME_DEPS)
	touch $(SERVE_STAMP)

# Everything else (tests, lint, the client libraries the tests drive) on top of it.
$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[test,lint]'
	touch $(STAMP) $(SERVE_STAMP)

serve: $(SERVE_STAMP)
	$(BIN)/python -m mockgw serve --host $(HOST) --port $(PORT) --fixtures $(FIXTURES)

# The Node CI example (tests/ci) needs node, curl and the npm `openai` package.
CI_EXAMPLE := examples/ci
$(CI_EXAMPLE)/node_modules: $(CI_EXAMPLE)/package.json
	@command -v npm >/dev/null && command -v curl >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nodejs npm curl; \
	  else echo "the tests need node, npm and curl: sudo apt-get install nodejs npm curl (or run make test as root)"; exit 1; fi; }
	cd $(CI_EXAMPLE) && npm install --no-audit --no-fund --no-package-lock --silent
	touch $@

# The Node client of examples/resilience (tests/verdict) needs node and the npm `openai` package.
NODE_EXAMPLE := examples/resilience/node
$(NODE_EXAMPLE)/node_modules: $(NODE_EXAMPLE)/package.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nodejs npm; \
	  else echo "the tests need node and npm: sudo apt-get install nodejs npm (or run make test as root)"; exit 1; fi; }
	cd $(NODE_EXAMPLE) && npm install --no-audit --no-fund --no-package-lock --silent
	touch $@

# One xdist worker more than there are cores: about a third of the suite's time is waiting (timeouts run out,
# subprocesses start, browsers paint), which a third worker fills (2 cores: 97-101 s with 2 workers, 84 s with 3,
# 87 s with 4). worksteal hands a long test's neighbours to an idle worker instead of queueing them behind it.
WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: $(STAMP) $(CI_EXAMPLE)/node_modules $(NODE_EXAMPLE)/node_modules chromium
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist worksteal -p no:cacheprovider

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

# Where mockgw's time goes under the bench's load: py-spy's top functions (bench/spy.py, docs/bench.md). py-spy is a
# sampling profiler that reads the server from outside (nothing added to the hot path); only this target needs it.
bench-profile: $(STAMP)
	@command -v wrk >/dev/null || { echo "make bench-profile needs wrk: sudo apt-get install wrk"; exit 1; }
	$(PIP) install --quiet 'py-spy>=0.3'
	cd bench && ../$(BIN)/python spy.py

# A wheel in dist/ (pip install dist/mockgw-*.whl).
dist: $(STAMP)
	rm -rf dist
	$(PIP) wheel --quiet --no-deps --wheel-dir dist .

clean:
	rm -rf $(VENV) build dist *.egg-info
