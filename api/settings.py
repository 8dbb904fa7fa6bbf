"""API settings, read from ``GEOPRIO_*`` environment variables (tests override them)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from geoprio.disclosure import DEFAULT_MIN_COUNT, DisclosurePolicy

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Everything the API is configured by.

    ``data_dir`` holds the outputs of ``geoprio index`` (``indice_<level>.geojson`` and its
    ``manifest.json``) and of the other commands; ``maps_dir`` the rendered maps.
    """

    model_config = SettingsConfigDict(env_prefix="GEOPRIO_", extra="ignore")

    data_dir: Path = Path("data/demo/output")
    maps_dir: Path = Path("maps")
    layers_dir: Path | None = Field(
        default=None, description="existing facilities and coast (camaras/garitas/playas/costa.geojson); default: data_dir's parent"
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir")
    require_key_for_aggregates: bool = False
    min_count: int = Field(
        default=DEFAULT_MIN_COUNT,
        ge=0,
        description="public access (no key, or a key without read:records) sees no count of 1 to min_count - 1 records, "
        "nor anything derived from one (geoprio.disclosure); 0 publishes everything to everyone",
    )
    protection: int | None = Field(default=None, ge=1, description="disclosure protection interval in records; default ceil(min_count/2)")
    max_body_bytes: int = Field(default=64_000, gt=0)
    cors_origins: list[str] = []
    page_size_max: int = Field(default=500, gt=0)
    job_workers: int = Field(default=1, ge=1, le=8)
    lang: str = "es"

    # --- plan jobs: where and how they run, admission and queue limits (api/jobs.py, api/admission.py)
    job_memory_limit_gb: float = Field(default=2.0, gt=0, description="resident memory of one plan job process; over it the job fails")
    job_wall_margin_s: float = Field(default=30.0, ge=0, description="a job is killed past its time_limit_s plus this many seconds")
    job_max_per_key: int = Field(default=3, ge=1, description="queued and running jobs one API key may have (then 429)")
    job_max_total: int = Field(default=20, ge=1, description="queued and running jobs of all keys together (then 429)")
    job_retry_after_s: int = Field(default=30, ge=1, description="Retry-After of a refused submission")
    job_poll_s: float = Field(default=0.5, gt=0, description="how often a runner looks for queued jobs, cancellations and limits")
    job_stale_s: float = Field(default=30.0, gt=0, description="a running job whose runner has not reported for this long is orphaned")
    plan_max_pairs: int = Field(default=30_000_000, ge=1, description="admission: demand–candidate pairs within the radius")
    plan_max_candidates: int = Field(default=1_000_000, ge=1, description="admission: candidate sites")
    plan_max_memory_gb: float | None = Field(default=None, gt=0, description="admission: estimated memory; default job_memory_limit_gb")

    # --- keys: expiry, failed-attempt limits, audit (api/keys.py, api/deps.py)
    key_fail_limit: int = Field(default=10, ge=1, description="unknown API keys from one address within key_fail_window_s before 429")
    key_fail_window_s: float = Field(default=60.0, gt=0, description="window in which failed key attempts are counted (seconds)")
    key_block_s: float = Field(default=60.0, gt=0, description="how long a client over key_fail_limit is answered 429 (its Retry-After)")
    key_touch_s: float = Field(default=60.0, ge=0, description="a key's last_used_at is written at most this often (seconds)")

    # --- the server: slow clients and overload (api/server.py)
    request_timeout_s: float = Field(
        default=10.0, gt=0, description="seconds a client has to send a whole request (headers and body) before the connection is closed"
    )
    max_connections: int = Field(default=1000, ge=1, description="open connections and requests at once; more are answered 503 at once")

    def model_post_init(self, __context: object) -> None:
        if self.layers_dir is None:
            self.layers_dir = self.data_dir.parent

    @property
    def public_policy(self) -> DisclosurePolicy | None:
        """The disclosure policy of public access (None when ``min_count`` is 0: nothing hidden)."""
        return DisclosurePolicy(min_count=self.min_count, protection=self.protection) if self.min_count > 0 else None

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'geoprio_api.sqlite').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The process's settings (cached; tests replace this dependency)."""
    return Settings()
