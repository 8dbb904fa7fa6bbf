"""Camera and garita placement by coverage optimization.

The flow, module by module: :mod:`~geoprio.placement.problem` (the coverage problem as
arrays) → :mod:`~geoprio.placement.reduce` (the model the solvers see) →
:mod:`~geoprio.placement.heuristics` (greedy, swaps, Lagrangian bound) →
:mod:`~geoprio.placement.milp` and :mod:`~geoprio.placement.decomposition` (exact models) →
:mod:`~geoprio.placement.workers` (worker processes to a hard deadline) →
:mod:`~geoprio.placement.search`, :mod:`~geoprio.placement.maximize` (maximal covering) and
:mod:`~geoprio.placement.minimize` (set covering), which return a
:class:`~geoprio.placement.result.PlacementResult`. The geo adapter is
:mod:`~geoprio.placement.sites` (demand, candidates) and :mod:`~geoprio.placement.shore`
(garitas along a shore); :mod:`~geoprio.placement.plan` runs a camera or garita plan end to
end from layers or files, with its options in :mod:`~geoprio.placement.options`;
:mod:`~geoprio.placement.public` is its public release under a disclosure policy.
"""

from geoprio.placement.decomposition import (
    DecompositionResult,
    decompose,
    lp_price,
    price_from_multipliers,
)
from geoprio.placement.evaluate import (
    CoverageEvaluator,
    Evaluation,
    ShoreEvaluator,
    camera_demand,
    evaluate_proposal,
    evaluation_from_pairs,
    garita_demand,
)
from geoprio.placement.heuristics import (
    CoverModel,
    GreedyPath,
    LagrangeResult,
    SwapResult,
    initial_multipliers,
    lagrangian_bound,
    lagrangian_value,
    lazy_greedy,
    swap_search,
)
from geoprio.placement.maximize import maximize_coverage
from geoprio.placement.milp import (
    MilpOutcome,
    lns,
    lscp_milp,
    mclp_milp,
)
from geoprio.placement.minimize import minimize_sites
from geoprio.placement.options import (
    CameraPlanOptions,
    GaritaPlanOptions,
    PlanSolverOptions,
)
from geoprio.placement.plan import (
    PathOrFrame,
    PlanRun,
    plan_cameras,
    plan_garitas,
    replay_camera_plan,
    replay_garita_plan,
    run_camera_plan,
    run_garita_plan,
)
from geoprio.placement.problem import (
    CoverageProblem,
    coverage_counts,
    coverage_matrix,
    spacing_conflicts,
)
from geoprio.placement.public import (
    PlanCounts,
    PublicPlan,
    plan_counts,
    public_plan,
    public_plan_run,
    sites_frame,
    snap_to_grid,
    write_public_plan,
)
from geoprio.placement.reduce import (
    Reduced,
    reduce_problem,
)
from geoprio.placement.result import (
    Method,
    PlacementResult,
    Status,
    coverage_curve,
)
from geoprio.placement.shore import (
    Shore,
    shore_candidates,
    shore_coverage_problem,
    shore_demand,
    shore_from_layers,
    shore_positions,
    snap_to_shore,
)
from geoprio.placement.sites import (
    Demand,
    ForecastDemand,
    Sites,
    candidate_grid,
    candidates_along_lines,
    candidates_from_points,
    combine_sites,
    coverage_problem,
    demand_from_points,
    drop_near,
    exclude_areas,
    facilities_from_points,
    forecast_demand,
)
from geoprio.placement.workers import (
    Worker,
    run_workers,
)

__all__ = [
    "CameraPlanOptions",
    "CoverModel",
    "CoverageEvaluator",
    "ShoreEvaluator",
    "evaluation_from_pairs",
    "garita_demand",
    "CoverageProblem",
    "DecompositionResult",
    "Demand",
    "ForecastDemand",
    "Evaluation",
    "GaritaPlanOptions",
    "GreedyPath",
    "LagrangeResult",
    "Method",
    "MilpOutcome",
    "PathOrFrame",
    "PlacementResult",
    "PlanRun",
    "PlanCounts",
    "PlanSolverOptions",
    "PublicPlan",
    "Reduced",
    "Shore",
    "Sites",
    "Status",
    "SwapResult",
    "Worker",
    "candidate_grid",
    "camera_demand",
    "candidates_along_lines",
    "candidates_from_points",
    "combine_sites",
    "coverage_counts",
    "coverage_curve",
    "coverage_matrix",
    "coverage_problem",
    "decompose",
    "demand_from_points",
    "drop_near",
    "evaluate_proposal",
    "exclude_areas",
    "facilities_from_points",
    "forecast_demand",
    "initial_multipliers",
    "lagrangian_bound",
    "lagrangian_value",
    "lazy_greedy",
    "lns",
    "lp_price",
    "lscp_milp",
    "maximize_coverage",
    "mclp_milp",
    "minimize_sites",
    "plan_counts",
    "plan_cameras",
    "plan_garitas",
    "price_from_multipliers",
    "public_plan",
    "public_plan_run",
    "reduce_problem",
    "replay_camera_plan",
    "replay_garita_plan",
    "run_camera_plan",
    "run_garita_plan",
    "run_workers",
    "shore_candidates",
    "shore_coverage_problem",
    "shore_demand",
    "shore_from_layers",
    "shore_positions",
    "sites_frame",
    "snap_to_grid",
    "snap_to_shore",
    "spacing_conflicts",
    "swap_search",
    "write_public_plan",
]
