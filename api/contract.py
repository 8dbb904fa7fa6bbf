"""The exact OpenAPI contract: every status code a route can answer, with its JSON body, and the
limits the routes enforce written into the schema.

:func:`install_contract` replaces ``app.openapi`` with a function that builds FastAPI's document
once and then, on every operation:

* documents the errors it can answer (:class:`~geoprio.api.errors.ErrorBody` or, for 422,
  :class:`~geoprio.api.errors.ValidationErrorBody`): 401 where a key may be required, 403, 429
  (with ``Retry-After``) and 503 wherever a key is checked, 404 where a path names something or
  the data directory may lack the output, 400 (not JSON) and 413 where there is a body, 422 everywhere;
* states the limits the settings and the loaded data impose: ``page_size`` at most
  ``GEOPRIO_PAGE_SIZE_MAX``; ``level``, ``tier``, ``type``, ``gi_class``, the tracking
  ``objective``/``level``/``year`` and the OGC ``collection_id`` as the values the data hold.

The document is built when it is first asked for (the data are loaded by then: ``lifespan``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from .errors import ErrorBody, ValidationErrorBody
from .features import collection_ids
from .routes.indicators import load_document
from .settings import Settings

__all__ = ["install_contract"]

#: Operations that never ask for a key (every other may answer 401: aggregate routes when
#: GEOPRIO_REQUIRE_KEY_FOR_AGGREGATES is set, the others always without one).
_OPEN = {("/health", "get")}
#: Routes whose output may be missing from the data directory (then 404), besides any route with a path parameter.
_MAY_BE_MISSING = {"/zones", "/hotspots", "/entornos", "/entornos/plan", "/indicators", "/incidents", "/forecast", "/forecast/backtest"}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}
_DESCRIPTIONS = {
    "400": "a body that is not JSON",
    "401": "no API key, and this route needs one (aggregate routes: when GEOPRIO_REQUIRE_KEY_FOR_AGGREGATES is set)",
    "403": "an unknown, expired or revoked API key, or a key without the scope this route needs",
    "404": "not found (or not in the data directory, or not visible to this key)",
    "413": "request body over GEOPRIO_MAX_BODY_BYTES",
    "422": "invalid parameters or body: `detail` is the list of problems, or one message",
    "429": "too many unknown keys from this address, or too many jobs (see Retry-After)",
    "503": "storage unavailable (database down or read-only, disk full): retry after Retry-After",
}


def _error(code: str, ref: str, headers: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "description": _DESCRIPTIONS[code],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }
    if headers:
        body["headers"] = _RETRY_AFTER
    return body


def _set_param(op: dict[str, Any], name: str, **schema: Any) -> None:
    for p in op.get("parameters", []):
        if p["name"] == name and p["in"] in ("query", "path"):
            target = p["schema"]
            if "anyOf" in target:  # an optional value: constrain the non-null branch
                target = next((s for s in target["anyOf"] if s.get("type") != "null"), target)
            target.update(schema)


def _data_enums(app: FastAPI) -> dict[tuple[str, str], list[Any]]:
    """(path, parameter) → the values the loaded data hold."""
    store = getattr(app.state, "store", None)
    if store is None:
        return {}
    out: dict[tuple[str, str], list[Any]] = {}
    if store.levels:
        for path in ("/zones", "/zones/{zone_id}", "/incidents"):
            out[(path, "level")] = list(store.levels)
        tiers = sorted({str(t) for z in store.zones.values() if "tier" in z.columns for t in z["tier"].dropna()})
        if tiers:
            out[("/zones", "tier")] = tiers
    if "entornos" in store.layers and "type" in store.layers["entornos"].columns:
        out[("/entornos", "type")] = sorted({str(t) for t in store.layers["entornos"]["type"]})
    if "cells" in store.layers and "gi_class" in store.layers["cells"].columns:
        out[("/hotspots", "gi_class")] = sorted({str(c) for c in store.layers["cells"]["gi_class"]})
    try:
        doc = store.cached(("indicators", "document"), lambda: load_document(store))
    except Exception:  # noqa: BLE001 (an unreadable tracking output: /indicators says why when asked)
        doc = None
    if doc is not None:
        out[("/indicators", "objective")] = [o["id"] for o in doc["objectives"]]
        out[("/indicators", "level")] = list(doc["levels"])
        for path in ("/indicators", "/indicators/{indicator_id}"):
            out[(path, "year")] = [int(y) for y in doc["years"]]
    ids = collection_ids(store)
    for path in (
        "/ogc/collections/{collection_id}",
        "/ogc/collections/{collection_id}/items",
        "/ogc/collections/{collection_id}/items/{feature_id}",
    ):
        out[(path, "collection_id")] = ids
    return out


def exact_openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """FastAPI's OpenAPI document of ``app`` made exact (see the module docstring)."""
    spec = FastAPI.openapi(app)  # FastAPI's own document, then made exact in place
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorBody, ValidationErrorBody):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    enums = _data_enums(app)
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            responses = op.setdefault("responses", {})
            names = {p["name"] for p in op.get("parameters", [])}
            if (path, method) not in _OPEN:
                responses["401"] = _error("401", "ErrorBody")
            if "x-api-key" in names:
                responses["403"] = _error("403", "ErrorBody")
                responses["429"] = _error("429", "ErrorBody", headers=True)
                responses["503"] = _error("503", "ErrorBody", headers=True)
            if "{" in path or path in _MAY_BE_MISSING:
                responses.setdefault("404", {"description": _DESCRIPTIONS["404"]})
                responses["404"]["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
            if "requestBody" in op:
                responses["400"] = _error("400", "ErrorBody")
                responses["413"] = _error("413", "ErrorBody")
            responses["422"] = _error("422", "ValidationErrorBody")
            if "page_size" in names:
                _set_param(op, "page_size", maximum=settings.page_size_max)
            for name in names:
                if (path, name) in enums:
                    _set_param(op, name, enum=enums[(path, name)])
    return spec


def install_contract(app: FastAPI, settings: Callable[[], Settings]) -> None:
    """Serve :func:`exact_openapi` as the app's OpenAPI document (built once, on first use)."""
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if done:
            return done[0]
        spec = exact_openapi(app, settings())
        if getattr(app.state, "store", None) is not None:  # kept once the data are loaded (their values are in it)
            done.append(spec)
        else:
            app.openapi_schema = None  # FastAPI's own cache: built again, with the data, next time
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
