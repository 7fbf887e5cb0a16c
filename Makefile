# AllIN developer entry points. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
ALLIN_HOST ?= 127.0.0.1
ALLIN_PORT ?= 8000
# `make run` shows the product against the built-in TikTok simulators; ALLIN_DEMO=false for real TikTok.
ALLIN_DEMO ?= true

.PHONY: install lock run test test-fast lint format proto peers bench clean system-deps

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

LOCK := requirements.lock

# Installs exactly what requirements.lock pins (runtime and dev, hash-checked) into .venv,
# then AllIN itself in editable mode.
install: $(BIN)/uv
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .

# Re-resolves the lock after a change to pyproject.toml's dependencies.
lock: $(BIN)/uv
	$(BIN)/uv pip compile --quiet pyproject.toml --group dev --python-version 3.11 \
		--generate-hashes --no-header -o $(LOCK)
	sed -i '1i # Every dependency of AllIN (runtime and dev), pinned with hashes. Regenerate with `make lock`.' $(LOCK)

run: install
	$(BIN)/allin db upgrade
	ALLIN_DEMO=$(ALLIN_DEMO) $(BIN)/allin serve --host $(ALLIN_HOST) --port $(ALLIN_PORT)

# The whole suite plus lint and types; database tests also run on PostgreSQL when
# ALLIN_TEST_POSTGRES_URL is set (.ci/run sets it).
test: system-deps install lint peers
	$(BIN)/pytest -q

test-fast: install
	$(BIN)/pytest -q -x

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

proto: install
	bash scripts/gen_proto.sh

# The Debian packages the tests need: installed when missing if run as root with apt-get,
# otherwise one line names the command to run.
system-deps:
	@bash scripts/system-deps.sh

peers: install
	bash scripts/peers.sh

bench: peers
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
