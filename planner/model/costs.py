"""Unit costs and durations of the upgrades a site needs before it can host AI/HPC load.

Every figure is an editable input (``portfolio.settings["unit_costs"]`` overrides any key)
and carries its unit in its name and a note saying where it comes from. Where the note
says "assumption", the number is a planning placeholder the analyst is expected to replace
with a quote; it is not a hidden constant.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planner.fmt import real_number
from planner.model.site import PlannerError


class UnitCostError(PlannerError, ValueError):
    """An invalid unit-cost override in the portfolio settings."""


@dataclass(frozen=True)
class UnitCost:
    """One editable unit cost or duration: ``key`` carries the unit (``_usd_per_km``, ``_months``)."""

    key: str
    label: str
    value: float
    unit: str
    note: str


_UNIT_COST_LIST: tuple[UnitCost, ...] = (
    UnitCost("dlc_retrofit_usd_per_mw_it", "Direct-to-chip cooling retrofit", 2_000_000.0, "$/MW critical IT",
             "Assumption: CDUs, secondary loop and heat rejection, ~15-25 % of the $8-13M per MW IT "
             "conversion capex in DOMAIN section 4"),
    UnitCost("dlc_retrofit_months", "Direct-to-chip retrofit duration", 9.0, "months",
             "Assumption: design, CDU delivery and install inside the 12-24 month conversion window (DOMAIN 4)"),
    UnitCost("hall_buildout_usd_per_mw_it", "Rack hall build-out (>= 130 kW/rack)", 6_000_000.0, "$/MW critical IT",
             "Assumption: shell, electrical fit-out and white space, the rest of the $8-13M per MW IT "
             "conversion capex (DOMAIN 4) once cooling and HV items are counted separately"),
    UnitCost("rack_density_upgrade_usd_per_mw_it", "Rack density upgrade in existing halls", 1_000_000.0,
             "$/MW critical IT",
             "Assumption: busway, rack PDUs and floor loading to take 130+ kW racks in existing rack-mount halls"),
    UnitCost("hall_buildout_months", "Hall build-out duration", 15.0, "months",
             "DOMAIN 4: 12-24 months from lease signing to first capacity on converted mining sites (midpoint-ish)"),
    UnitCost("transformer_fixed_usd", "Spare (N+1) transformer, fixed part", 500_000.0, "$ per transformer",
             "Assumption: pad, protection, foundations and install per added transformer"),
    UnitCost("transformer_usd_per_mva", "Spare (N+1) transformer, per MVA of rating", 25_000.0, "$/MVA",
             "Assumption: large power transformer price per MVA; the spare is sized like one existing unit"),
    UnitCost("transformer_lead_time_months", "Transformer lead time", 30.0, "months",
             "Assumption: large power transformer lead times of 2-4 years reported in 2023-2025; "
             "the site's own equipment_lead_time_months wins when entered"),
    UnitCost("power_factor", "Power factor for transformer sizing", 0.95, "MW/MVA",
             "Assumption: typical data-center load power factor"),
    UnitCost("substation_usd_per_mw", "Substation build or expansion", 150_000.0, "$/MW",
             "Assumption: HV substation at ~$45M for a 300 MW campus"),
    UnitCost("substation_months", "Substation build or expansion duration", 24.0, "months",
             "Assumption; new 300 MW-1 GW interconnections take 2-4 years (DOMAIN 1)"),
    UnitCost("hv_line_usd_per_km", "HV line / tap build (>= 138 kV)", 1_800_000.0, "$/km",
             "Assumption: single-circuit 138-345 kV line, ~$2-4M per mile in US transmission cost guides"),
    UnitCost("hv_line_months", "HV line / tap build duration", 36.0, "months",
             "Assumption: routing, right of way and construction; DOMAIN 1 gives 2-4 years for new interconnections"),
    UnitCost("fibre_build_usd_per_km", "Fibre lateral build", 50_000.0, "$/km",
             "Assumption: buried rural fibre lateral including splicing and permits"),
    UnitCost("fibre_build_months", "Fibre lateral build duration", 9.0, "months",
             "Assumption: permits, make-ready and construction for a rural lateral"),
    UnitCost("water_rights_usd", "Water rights / supply agreement", 2_000_000.0, "$ lump sum",
             "Assumption: securing rights or a supply contract and a connection; closed-loop DLC lowers the need"),
    UnitCost("water_rights_months", "Water rights duration", 12.0, "months", "Assumption"),
    UnitCost("permitting_usd", "Permits and zoning for data-center use", 500_000.0, "$ lump sum",
             "Assumption: studies, applications and legal work"),
    UnitCost("permitting_months", "Permits and zoning duration", 12.0, "months", "Assumption"),
)

UNIT_COSTS: dict[str, UnitCost] = {u.key: u for u in _UNIT_COST_LIST}
DEFAULT_UNIT_COSTS: dict[str, float] = {u.key: u.value for u in _UNIT_COST_LIST}


def unit_costs_from_settings(settings: Mapping[str, Any] | None) -> dict[str, float]:
    """Default unit costs with ``settings["unit_costs"]`` overrides applied and checked.

    Raises
    ------
    UnitCostError
        For an unknown key, or a value that is not a finite number >= 0 (power_factor in (0, 1]).
    """
    out = dict(DEFAULT_UNIT_COSTS)
    overrides = (settings or {}).get("unit_costs") or {}
    if not isinstance(overrides, Mapping):
        raise UnitCostError(f"settings unit_costs = {overrides!r}: must be a mapping of cost key to number. "
                            "Fix the project settings")
    for key, raw in overrides.items():
        if key not in UNIT_COSTS:
            raise UnitCostError(f"settings unit_costs: unknown key {key!r}. "
                                f"Use one of: {', '.join(sorted(UNIT_COSTS))}")
        if real_number(raw) is None:
            raise UnitCostError(f"settings unit_costs {key} = {raw!r}: must be a finite number "
                                f"in {UNIT_COSTS[key].unit}. Enter a number")
        value = float(raw)
        if value < 0:
            raise UnitCostError(f"settings unit_costs {key} = {value:g}: must not be negative. "
                                "Enter a value >= 0")
        if key == "power_factor" and not 0 < value <= 1:
            raise UnitCostError(f"settings unit_costs power_factor = {value:g}: must be in (0, 1]. "
                                "Enter e.g. 0.95")
        out[key] = value
    return out
