# The README's two commands: `make run` (main job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
GUICHET := $(VENV)/bin/guichet
EXTRAS ?= test,fast,st
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup system-deps run index serve test bench-sample

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; no browser download) and
# Debian's PostgreSQL server for the database tests (they start a throwaway cluster).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

# Main job: index the bundled sample into the embedded Qdrant Edge index, then serve.
run: setup index serve

index: setup
	$(GUICHET) ingest --source data/sample

serve: setup
	$(GUICHET) serve --host $(HOST) --port $(PORT)

test: setup system-deps
	$(PY) -m pytest -q

bench-sample: setup
	$(GUICHET) bench query --json
