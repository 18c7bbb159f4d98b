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
]


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def evalsets_dir() -> Path:
    if not EVALSETS_DIR.exists():
        pytest.skip(f"evaluation sets not found at {EVALSETS_DIR}")
    return EVALSETS_DIR
