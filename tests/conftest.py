"""Shared test configuration. Fixtures live in tests/fixtures/, one module per package."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO / "data" / "sample"
# The shared evaluation sets sit beside the checkout (../shared/evalsets); never copied here.
EVALSETS_DIR = Path(os.environ.get("GUICHET_EVALSETS", REPO.parent / "shared" / "evalsets"))

pytest_plugins = [
    "tests.fixtures.ingest",
    "tests.fixtures.sources",
    "tests.fixtures.retrieval",
    "tests.fixtures.generation",
    "tests.fixtures.api",
    "tests.fixtures.db",
    "tests.fixtures.evals",
    "tests.fixtures.web",
]


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def evalsets_dir() -> Path:
    if not EVALSETS_DIR.exists():
        pytest.skip(f"evaluation sets not found at {EVALSETS_DIR}")
    return EVALSETS_DIR


@pytest.fixture(autouse=True, scope="session")
def _database_out_of_the_checkout(tmp_path_factory):
    """`guichet ingest` records its runs in GUICHET_DATABASE_URL: a temporary database
    for the whole session (subprocesses inherit it), never data/guichet.db."""
    previous = os.environ.get("GUICHET_DATABASE_URL")
    os.environ["GUICHET_DATABASE_URL"] = f"sqlite:///{tmp_path_factory.mktemp('db') / 'session.db'}"
    yield
    if previous is None:
        os.environ.pop("GUICHET_DATABASE_URL", None)
    else:
        os.environ["GUICHET_DATABASE_URL"] = previous
