# The names `from geoprio import …` offers, in the order of the flow. geoprio/__init__.py loads
# them lazily from this list (lazy_loader.attach_stub), so `import geoprio` and the CLI start
# fast; type checkers read this file. Add a name here and it is public.

from ._version import __version__
from .demo import DemoCity, DemoRun, make_demo_city, run_demo, synthetic_incidents, write_demo_city
from .disclosure import DisclosurePolicy, anonymous_points, attack_intervals, protect
from .entornos import (
    DeploymentPlan,
    EntornosConfig,
    EntornosRun,
    load_entornos_config,
    load_places,
    plan_deployment,
    public_entornos,
    replay_entornos,
    run_entornos,
)
from .errors import ColumnError, ConfigError, CRSError, GeoprioError, InputError, ManifestError, MissingDependencyError
from .hotspots import (
    BacktestJob,
    BacktestRun,
    DisplacementJob,
    DisplacementRun,
    HotspotJob,
    HotspotOptions,
    HotspotRun,
    PointsSource,
    ZonesSource,
    find_hotspots,
    gi_star,
    make_cells,
    public_cells,
    public_clusters,
    replay_backtest,
    replay_displacement,
    replay_hotspots,
    run_backtest,
    run_backtest_job,
    run_displacement,
    run_displacement_job,
    run_hotspot_job,
)
from .index import IndexRun, PriorityIndex, RunConfig, indicator_table, load_config, public_index, replay_manifest, run_index, tier_labels
from .io import Export, read_layer, read_table
from .io.results import Written, replay
from .maps import MapOptions, build_map, demo_maps, make_map, map_from_files, replay_map, write_map
from .options import Options
from .placement import (
    CameraPlanOptions,
    CoverageProblem,
    GaritaPlanOptions,
    PlacementResult,
    PlanRun,
    maximize_coverage,
    minimize_sites,
    plan_cameras,
    plan_garitas,
    public_plan_run,
    replay_camera_plan,
    replay_garita_plan,
)
from .records import Records, ValidationReport, load_harm_table, load_keyed, load_points, load_zone_table
from .seguimiento import TargetsConfig, TrackingResult, load_targets, public_tracking, replay_tracking, track
from .zones import PointLocator, Zones, as_zones, attach, join_parent, load_zones, make_grid, with_population

__all__ = [
    "__version__",
    # disclosure control (each stage's public_* applies the policy)
    "DisclosurePolicy",
    "protect",
    "attack_intervals",
    "anonymous_points",
    "public_index",
    "public_cells",
    "public_clusters",
    "public_plan_run",
    "public_entornos",
    "public_tracking",
    # reading and records
    "read_table",
    "read_layer",
    "load_points",
    "load_keyed",
    "load_zone_table",
    "Records",
    "ValidationReport",
    "load_harm_table",
    # zones
    "Zones",
    "load_zones",
    "make_grid",
    "as_zones",
    "with_population",
    "join_parent",
    "PointLocator",
    "attach",
    # index
    "PriorityIndex",
    "RunConfig",
    "load_config",
    "indicator_table",
    "run_index",
    "IndexRun",
    "replay_manifest",
    "tier_labels",
    # hot spots
    "HotspotOptions",
    "find_hotspots",
    "HotspotRun",
    "gi_star",
    "make_cells",
    "run_backtest",
    "BacktestRun",
    "run_displacement",
    "DisplacementRun",
    "PointsSource",
    "ZonesSource",
    "HotspotJob",
    "run_hotspot_job",
    "replay_hotspots",
    "BacktestJob",
    "run_backtest_job",
    "replay_backtest",
    "DisplacementJob",
    "run_displacement_job",
    "replay_displacement",
    # placement
    "CoverageProblem",
    "maximize_coverage",
    "minimize_sites",
    "plan_cameras",
    "plan_garitas",
    "PlanRun",
    "PlacementResult",
    "CameraPlanOptions",
    "GaritaPlanOptions",
    "replay_camera_plan",
    "replay_garita_plan",
    # entornos
    "EntornosConfig",
    "load_entornos_config",
    "load_places",
    "run_entornos",
    "EntornosRun",
    "replay_entornos",
    "plan_deployment",
    "DeploymentPlan",
    # seguimiento
    "TargetsConfig",
    "load_targets",
    "track",
    "TrackingResult",
    "replay_tracking",
    # maps
    "MapOptions",
    "make_map",
    "build_map",
    "map_from_files",
    "write_map",
    "replay_map",
    "demo_maps",
    # demo
    "make_demo_city",
    "DemoCity",
    "write_demo_city",
    "synthetic_incidents",
    "run_demo",
    "DemoRun",
    # running and replaying jobs
    "Options",
    "Export",
    "Written",
    "replay",
    # errors
    "GeoprioError",
    "InputError",
    "ColumnError",
    "ConfigError",
    "CRSError",
    "ManifestError",
    "MissingDependencyError",
]
