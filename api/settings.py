"""API settings, read from ``GEOPRIO_*`` environment variables (tests override them)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    min_count: int = Field(default=0, ge=0, description="suppress indicator values based on fewer records than this")
    max_body_bytes: int = Field(default=64_000, gt=0)
    cors_origins: list[str] = []
    page_size_max: int = Field(default=500, gt=0)
    job_workers: int = Field(default=1, ge=1, le=8)
    lang: str = "es"

    # --- plan jobs: where and how they run, admission and queue limits (api/jobs.py, api/admission.py)

    # --- keys: expiry, failed-attempt limits, audit (api/keys.py, api/deps.py)

    def model_post_init(self, __context: object) -> None:
        if self.layers_dir is None:
            self.layers_dir = self.data_dir.parent

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'geoprio_api.sqlite').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The process's settings (cached; tests replace this dependency)."""
    return Settings()
