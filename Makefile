# The README's two commands: `make run` (main job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
GUICHET := $(VENV)/bin/guichet
# What the main job needs: the default embedder's fast path (ONNX Runtime). The heavy
# extras (st: sentence-transformers and torch) stay opt-in: make setup RUN_EXTRAS=fast,st
RUN_EXTRAS ?= fast
# What the test suite needs (its sentence-transformers tests included).
TEST_EXTRAS ?= test,fast,st
# Empty: `guichet serve` listens where GUICHET_HOST / GUICHET_PORT say (default
# 127.0.0.1:8000); `make run PORT=8080` overrides them.
HOST ?=
PORT ?=

.PHONY: setup setup-test system-deps run index sample-embeddings serve test bench-sample

setup: $(VENV)/.installed-run

setup-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	python3 -m venv $(VENV)

# Not quiet: pip prints each package as it collects it (bars on a terminal only).
define install
	@echo "== installing guichet with the extras [$(1)] into $(VENV) (about 1 to 2 minutes on 2 cores)"
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -e '.[$(1)]'
	@echo "== installed: $(abspath $(GUICHET)) (not on your PATH: use that path, or first run '. $(VENV)/bin/activate')"
endef

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(call install,$(RUN_EXTRAS))
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(call install,$(TEST_EXTRAS))
	touch $@ $(VENV)/.installed-run

# Debian's Chromium for the browser tests (Playwright drives it; no browser download) and
# Debian's PostgreSQL server for the database tests (they start a throwaway cluster).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

# Main job: index the bundled sample into the embedded Qdrant Edge index, then serve.
run: setup index serve

# The bundled sample's vectors come with it (made by `make sample-embeddings`): a first run
# embeds only what changed since. Another corpus is embedded as usual.
SAMPLE_EMBEDDINGS := data/sample-embeddings.sqlite

index: setup
	$(GUICHET) ingest --source data/sample $(if $(wildcard $(SAMPLE_EMBEDDINGS)),--embeddings-from $(SAMPLE_EMBEDDINGS))

# Rebuild the sample's vectors file after the sample, the chunking or the embedder changed.
sample-embeddings: setup
	rm -rf .cache/sample-embeddings-index
	$(GUICHET) ingest --source data/sample --index-dir .cache/sample-embeddings-index
	rm -f $(SAMPLE_EMBEDDINGS)
	$(PY) -c "import sqlite3; sqlite3.connect('.cache/sample-embeddings-index/embeddings/cache.sqlite').execute(\"VACUUM INTO '$(SAMPLE_EMBEDDINGS)'\")"

serve: setup
	$(GUICHET) serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

test: setup-test system-deps
	$(PY) -m pytest -q

bench-sample: setup
	$(GUICHET) bench query --json
