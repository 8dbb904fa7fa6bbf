"""Entornos: public places ranked by the incidents near them, their peak hours and a team deployment plan."""

from geoprio.entornos.deploy import (
    DeploymentPlan,
    ScheduleError,
    assign_teams,
    check_schedule,
    format_window,
    plan_deployment,
)
from geoprio.entornos.places import (
    Overlap,
    Places,
    Surroundings,
    incident_pairs,
    load_places,
    surroundings,
)
from geoprio.entornos.profiles import (
    PlaceProfiles,
    format_windows,
    peak_mask,
    place_profiles,
    windows,
)
from geoprio.entornos.public import (
    PublicEntornos,
    public_entornos,
    write_public_entornos,
)
from geoprio.entornos.run import (
    DeployConfig,
    EntornosConfig,
    EntornosRun,
    IncidentsConfig,
    PlacesConfig,
    ProfileConfig,
    load_entornos_config,
    parse_entornos_config,
    plan_summary,
    replay_entornos,
    run_entornos,
)

__all__ = [
    "DeployConfig",
    "DeploymentPlan",
    "EntornosConfig",
    "EntornosRun",
    "IncidentsConfig",
    "Overlap",
    "PlaceProfiles",
    "Places",
    "PlacesConfig",
    "PublicEntornos",
    "ProfileConfig",
    "ScheduleError",
    "Surroundings",
    "assign_teams",
    "check_schedule",
    "format_window",
    "format_windows",
    "incident_pairs",
    "load_entornos_config",
    "load_places",
    "parse_entornos_config",
    "peak_mask",
    "place_profiles",
    "plan_deployment",
    "plan_summary",
    "public_entornos",
    "replay_entornos",
    "run_entornos",
    "surroundings",
    "windows",
    "write_public_entornos",
]
