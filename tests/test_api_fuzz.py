"""Fuzzing the API from its own OpenAPI schema (schemathesis): valid and invalid requests
with a real key, on the real app and a real SQLite file. No 5xx, no stack trace, ever.

About 1,000+ generated requests over the operations in a couple of minutes.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from tests.fixtures.api import auth, make_key  # noqa: E402

EXAMPLES_PER_OPERATION = 60
MIN_REQUESTS = 1_000
requests_made: list[tuple[str, int]] = []


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, api_retriever, api_draft_service):
    from api.app import create_app
    from api.settings import ApiSettings

    folder = tmp_path_factory.mktemp("fuzz")
    settings_ = ApiSettings(database_url=f"sqlite:///{folder / 'fuzz.db'}", rate_limit_per_minute=1_000_000,
                            max_body_bytes=32 * 1024, max_message_chars=2_000,
                            reindex_source=str(folder / "no-source"))
    app = create_app(settings_, retriever=api_retriever, draft_service=api_draft_service,
                     ingest_runner=lambda source: {"source": source})
    app.state.fuzz_key = make_key(app, "admin")
    return app


def _operations(app) -> list:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


# schemathesis' own pytest plugin does not load under this pytest; its strategies are
# driven with Hypothesis directly, one operation and one generation mode at a time.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_server_error_and_no_stack_trace(fuzz_app, mode):
    key = auth(fuzz_app.state.fuzz_key)["Authorization"]
    failures: list[str] = []
    for operation in _operations(fuzz_app):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case):
            headers = dict(case.headers or {})
            headers.setdefault("Authorization", key)
            response = case.call(headers=headers)
            requests_made.append((case.operation.label, response.status_code))
            if response.status_code >= 500 or "Traceback" in response.text or 'File "' in response.text:
                failures.append(f"{case.operation.label} -> {response.status_code}: {response.text[:300]}")

        try:
            call()
        except Unsatisfiable:  # nothing to make invalid (e.g. GET /healthz has no inputs)
            assert mode == GenerationMode.NEGATIVE, operation.label
    assert not failures, failures[:5]


def test_enough_requests_were_generated():
    if not requests_made:
        pytest.skip("the fuzz test did not run in this session")
    print(f"{len(requests_made)} fuzz requests, statuses {sorted({s for _, s in requests_made})}")
    assert len(requests_made) >= MIN_REQUESTS, len(requests_made)
    assert len({label for label, _ in requests_made}) >= 10
