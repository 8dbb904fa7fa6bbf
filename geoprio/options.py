"""The one base class of every options object and config model in geoprio.

Every job (index, hot spots, backtest, displacement, camera and garita plans, entornos,
seguimiento, maps) takes one frozen options object built on :class:`Options`: a pydantic v2
model that refuses unknown keys, cannot be changed after it is built, and serializes to the
JSON that the run manifest records (so a run can be replayed from its manifest).
Validation errors become one :class:`~geoprio.errors.ConfigError` that names every bad setting
(:func:`validated`).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from geoprio.errors import ConfigError

__all__ = ["Options", "format_validation_error", "validated"]


class Options(BaseModel):
    """Frozen, strict pydantic model: the base of every geoprio options object and config."""

    model_config = ConfigDict(extra="forbid", frozen=True)


M = TypeVar("M", bound=BaseModel)


def _did_you_mean(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> str:
    """``; did you mean 'x'?`` for an unknown key, looked up among the model's fields at ``loc``."""
    if model is None or not loc:
        return ""
    fields: dict[str, Any] = dict(model.model_fields)
    for part in loc[:-1]:
        info = fields.get(str(part))
        sub = getattr(info, "annotation", None) if info is not None else None
        if not (isinstance(sub, type) and issubclass(sub, BaseModel)):
            return ""
        fields = dict(sub.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), list(fields), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def format_validation_error(source: str, exc: ValidationError, *, what: str = "configuration", model: type[BaseModel] | None = None) -> str:
    """One message naming ``source`` and, per line, each bad setting and why."""
    lines = [f"{source}: invalid {what}"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown setting" + _did_you_mean(model, tuple(err["loc"]))
        lines.append(f"  {loc or '(top level)'}: {msg}")
    return "\n".join(lines)


def validated(model: type[M], doc: dict[str, Any], *, source: str, base: Path | None = None, what: str = "configuration") -> M:
    """Validate ``doc`` as ``model``; errors become one :class:`ConfigError` naming each setting.

    With ``base``, relative paths are resolved against it (the model's ``resolved`` method).
    """
    try:
        cfg = model.model_validate(doc)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc, what=what, model=model)) from None
    if base is not None and hasattr(cfg, "resolved"):
        resolved: M = cfg.resolved(base)
        return resolved
    return cfg
