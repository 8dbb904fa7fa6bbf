"""The FastAPI application: ``create_app()`` builds it; ``app`` is what uvicorn serves.

Data are loaded once in ``lifespan`` from the directory in the settings; every router is a
thin layer over what ``geoprio`` wrote (no computation twice).
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from pydantic.warnings import UnsupportedFieldAttributeWarning

from geoprio._version import __version__

from .contract import install_contract
from .engine import make_engine
from .errors import BodySizeLimit, install_handlers
from .jobs import JobRunner
from .routes import entornos, forecast, health, hotspots, incidents, indicators, maps, ogc, plans, workspace, zones
from .settings import Settings, get_settings
from .store import Store

__all__ = ["app", "create_app", "init_state"]


def init_state(app: FastAPI, settings: Settings) -> None:
    """Load the outputs and open the database (what ``lifespan`` does at start-up)."""
    app.state.settings = settings
    app.state.store = Store.load(settings.data_dir, settings.maps_dir)
    zones.warm(app.state.store, [None, settings.public_policy])  # the first requests find the zones ready
    app.state.engine = make_engine(settings.db_url)
    app.state.jobs = JobRunner(app.state.engine, app.state.store, settings)
    app.state.jobs.resume()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` default to the environment's (``GEOPRIO_*``)."""
    # FastAPI hides this pydantic warning inside warnings.catch_warnings(), which is not
    # thread-safe: with job threads about, it can escape into the log. Filter it for good.
    warnings.filterwarnings("ignore", category=UnsupportedFieldAttributeWarning)

    def current() -> Settings:
        return settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        init_state(app, current())
        # what start-up loaded (tables, caches, the schema) lives as long as the process: keep
        # it out of the garbage collector's full passes, which otherwise stall requests
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()
        try:
            app.state.jobs.shutdown()
        finally:  # the pool's connections are closed whatever the shutdown met
            app.state.engine.dispose()

    app = FastAPI(
        title="geoprio",
        version=__version__,
        description="Zonas priorizadas, puntos críticos y planes de cámaras y garitas para seguridad y convivencia.",
        lifespan=lifespan,
    )
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: settings
    s = current()
    install_handlers(app)
    install_contract(app, current)
    app.add_middleware(BodySizeLimit, max_bytes=s.max_body_bytes)
    if s.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=s.cors_origins, allow_methods=["GET", "POST"], allow_headers=["X-API-Key", "Content-Type"]
        )
    for router in (
        health.router,
        zones.router,
        hotspots.router,
        entornos.router,
        indicators.router,
        plans.router,
        maps.router,
        incidents.router,
        ogc.router,
        workspace.router,
        forecast.router,
    ):
        app.include_router(router)
    assets = s.maps_dir / "assets"
    if assets.is_dir():
        app.mount("/maps/assets", StaticFiles(directory=assets), name="map-assets")
    return app


app = create_app()
