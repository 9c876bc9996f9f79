"""Site attribute registry: every field with its unit, type, valid range and meaning.

One table drives validation, the GeoPackage schema, the Qt table delegates, the
form, the reports and the importers' column mapping. ``None`` always means
"unknown" and is never treated as 0.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from planner.fmt import UNKNOWN, finite, fmt_choice, fmt_number, fmt_quantity, quantity_parts
from planner.model.topology_zoo import network_text, pop_text

Kind = Literal["str", "float", "int", "bool", "enum", "date"]

STATUS_CHOICES = ("operating", "pipeline", "announced_conversion", "ai_new_build")
INTERCONNECTION_CHOICES = ("energized", "approved", "in_queue", "studying", "none")
WATER_SOURCE_CHOICES = ("rights_secured", "municipal", "groundwater_well", "surface_water", "none")
WATER_STRESS_CHOICES = ("low", "medium", "high", "extremely_high")
PERMIT_CHOICES = ("granted", "pending", "none")
ZONING_CHOICES = ("industrial_approved", "rezoning_pending", "not_zoned")
RISK_CHOICES = ("low", "medium", "high")
COOLING_CHOICES = ("air", "hydro", "immersion", "direct_to_chip", "mixed")
DLC_PATH_CHOICES = ("dlc_ready", "retrofit_planned", "retrofit_possible", "none")
REDUNDANCY_CHOICES = ("N", "N+1", "2N")
HALL_CHOICES = ("rack_mount_halls", "containers", "mixed", "greenfield")
EQUIPMENT_CHOICES = ("owned", "on_order", "none")
PRECISION_CHOICES = ("exact", "town_centroid", "county_seat", "district_centre", "approximate")


@dataclass(frozen=True)
class FieldSpec:
    """Description of one site attribute."""

    name: str
    label: str
    kind: Kind
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    group: str = "identity"
    computed: bool = False
    required: bool = False
    help: str = ""
    max_length: int = 2000

    @property
    def label_with_unit(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


def _f(name: str, label: str, kind: Kind, unit: str = "", lo: float | None = None,
       hi: float | None = None, choices: tuple[str, ...] = (), group: str = "identity",
       computed: bool = False, required: bool = False, help: str = "",
       max_length: int = 2000) -> FieldSpec:
    return FieldSpec(name, label, kind, unit, lo, hi, choices, group, computed, required, help, max_length)


# Voltage classes for the proximity measures (thresholds editable in gis.proximity config).
VOLTAGE_CLASSES_KV: tuple[int, ...] = (69, 138, 230, 345, 500)

_IDENTITY = [
    _f("site_id", "Site ID", "str", required=True, max_length=64,
       help="Unique short identifier, e.g. CORZ-DEN"),
    _f("name", "Name", "str", required=True, max_length=200),
    _f("operator", "Operator", "str", max_length=200),
    _f("lon", "Longitude", "float", "deg", -180.0, 180.0, help="WGS84 (EPSG:4326)"),
    _f("lat", "Latitude", "float", "deg", -90.0, 90.0, help="WGS84 (EPSG:4326)"),
    _f("location_precision", "Location precision", "enum", choices=PRECISION_CHOICES,
       help="How well the point matches the facility (town centroids are km off)"),
    _f("locality", "Locality", "str", max_length=200),
    _f("admin1", "State / province", "str", max_length=100),
    _f("country", "Country", "str", max_length=100, help="ISO 3166-1 alpha-2 code, e.g. US"),
    _f("status", "Status", "enum", choices=STATUS_CHOICES, required=True),
    _f("ai_partner", "AI/HPC partner", "str", max_length=500),
    _f("notes", "Notes", "str", max_length=5000),
    _f("sources", "Sources", "str", max_length=5000, help="URLs separated by ' ; '"),
]

_POWER = [
    _f("power_capacity_mw", "Power capacity (gross)", "float", "MW", 0, 10_000, group="power",
       help="Gross power the site can draw when fully built (contracted / permitted)"),
    _f("energized_mw", "Energized", "float", "MW", 0, 10_000, group="power",
       help="Power energized and usable today"),
    _f("pipeline_mw", "Pipeline", "float", "MW", 0, 10_000, group="power",
       help="Additional power in development, not yet energized"),
    _f("interconnection_status", "Interconnection status", "enum", choices=INTERCONNECTION_CHOICES,
       group="time_to_power"),
    _f("expected_energization_date", "Expected energization", "date", group="time_to_power",
       help="ISO date (YYYY-MM-DD) when pipeline power is expected"),
    _f("power_price_usd_per_mwh", "All-in power price", "float", "$/MWh", -500, 2000, group="power",
       help="Site's all-in power cost net of credits; unknown uses the portfolio assumption"),
]

_HV = [
    _f("substation_owned", "Substation owned", "bool", group="hv"),
    _f("substation_voltage_kv", "Substation high-side voltage", "float", "kV", 0, 1200, group="hv"),
    _f("transformer_count", "Transformers", "int", "count", 0, 200, group="hv"),
    _f("transformers_n_plus_1", "N+1 transformers", "bool", group="hv"),
]

_LAND_WATER = [
    _f("land_acres", "Land", "float", "acres", 0, 1_000_000, group="land"),
    _f("land_expandable", "Land expandable", "bool", group="land"),
    _f("water_source", "Water source", "enum", choices=WATER_SOURCE_CHOICES, group="water"),
    _f("water_volume_m3_per_year", "Water volume available", "float", "m3/yr", 0, 1e9, group="water"),
    _f("water_stress", "Water stress", "enum", choices=WATER_STRESS_CHOICES, group="water"),
]

_FIBRE = [
    _f("dark_fibre_on_site", "Dark fibre on site", "bool", group="fibre"),
    _f("latency_to_metro_ms", "Latency to nearest major metro", "float", "ms", 0, 1000, group="fibre"),
]

_PERMITS = [
    _f("power_permit", "Power permit", "enum", choices=PERMIT_CHOICES, group="permits"),
    _f("zoning", "Land use / zoning", "enum", choices=ZONING_CHOICES, group="permits"),
    _f("moratorium_risk", "Local moratorium risk", "enum", choices=RISK_CHOICES, group="permits"),
]

_COOLING = [
    _f("cooling_current", "Current cooling", "enum", choices=COOLING_CHOICES, group="cooling"),
    _f("dlc_path", "Path to direct liquid cooling", "enum", choices=DLC_PATH_CHOICES, group="cooling"),
    _f("redundancy_power", "Power redundancy", "enum", choices=REDUNDANCY_CHOICES, group="redundancy"),
    _f("redundancy_cooling", "Cooling redundancy", "enum", choices=REDUNDANCY_CHOICES, group="redundancy"),
    _f("redundancy_network", "Network redundancy", "enum", choices=REDUNDANCY_CHOICES, group="redundancy"),
    _f("max_rack_kw", "Max rack density supported", "float", "kW/rack", 0, 500, group="density"),
    _f("hall_type", "Hall type", "enum", choices=HALL_CHOICES, group="density"),
    _f("labour_rating", "Skilled labour availability", "int", "1-5", 1, 5, group="labour",
       help="1 = none locally, 5 = deep local electrical/mechanical workforce"),
    _f("equipment_status", "Long-lead equipment", "enum", choices=EQUIPMENT_CHOICES, group="equipment",
       help="Transformers / switchgear owned, on order, or not yet procured"),
    _f("equipment_lead_time_months", "Equipment lead time", "float", "months", 0, 120, group="equipment"),
]

_MINING = [
    _f("asic_model", "ASIC fleet model", "str", group="mining", max_length=100,
       help="Main model of the installed fleet, from the ASIC catalogue (gives its J/TH when "
            "fleet_j_per_th is unknown)"),
    _f("fleet_mw", "Installed fleet power", "float", "MW", 0, 10_000, group="mining",
       help="MW of miners installed on the energized MW (site meter); unknown = the energized MW, "
            "or fleet_hashrate_ph_s x J/TH when the hashrate is known"),
    _f("fleet_hashrate_ph_s", "Installed hashrate", "float", "PH/s", 0, 1_000_000, group="mining",
       help="Hashrate of the installed fleet (1 EH/s = 1,000 PH/s); used for its MW when fleet_mw is unknown"),
    _f("fleet_j_per_th", "Installed fleet efficiency", "float", "J/TH", 5, 60, group="mining",
       help="Average J/TH of the installed fleet; unknown uses asic_model, else the portfolio default "
            "(public miners ~16-21 J/TH in 2025)"),
    _f("fleet_age_years", "Installed fleet age", "float", "yr", 0, 20, group="mining",
       help="Average age of the installed machines; unknown uses the portfolio default"),
]


def _computed() -> list[FieldSpec]:
    out: list[FieldSpec] = []
    for kv in VOLTAGE_CLASSES_KV:
        g = "grid"
        out += [
            _f(f"dist_line_{kv}kv_km", f"Nearest line >= {kv} kV", "float", "km", 0, 40_000, group=g,
               computed=True, help=f"Geodesic distance to the nearest transmission line of at least {kv} kV"),
            _f(f"line_{kv}kv_voltage_kv", f"That line's voltage (>= {kv} kV)", "float", "kV", 0, 2000,
               group=g, computed=True),
            _f(f"line_{kv}kv_operator", f"That line's operator (>= {kv} kV)", "str", group=g, computed=True),
            _f(f"line_{kv}kv_name", f"That line's name (>= {kv} kV)", "str", group=g, computed=True),
        ]
    out += [
        _f("dist_substation_km", "Nearest substation", "float", "km", 0, 40_000, group="grid", computed=True),
        _f("substation_name", "Nearest substation name", "str", group="grid", computed=True),
        _f("substation_max_kv", "Nearest substation voltage", "float", "kV", 0, 2000, group="grid", computed=True),
        _f("dist_fibre_km", "Nearest fibre route", "float", "km", 0, 40_000, group="fibre", computed=True),
        _f("fibre_network", "Nearest fibre network", "str", group="fibre", computed=True),
        _f("dist_pop_km", "Nearest PoP", "float", "km", 0, 40_000, group="fibre", computed=True),
        _f("pop_name", "Nearest PoP name", "str", group="fibre", computed=True),
        _f("stranded_region", "Stranded-energy region", "str", group="stranded", computed=True,
           help="Name of the stranded-energy region containing the site (empty if outside all)"),
        _f("dist_stranded_km", "Distance to stranded region", "float", "km", 0, 40_000, group="stranded",
           computed=True, help="0 when inside"),
        _f("flare_count", "Gas flares within radius", "int", "count", 0, 1_000_000, group="stranded",
           computed=True),
        _f("flare_volume_bcm", "Flared gas within radius", "float", "bcm/yr", 0, 1e6, group="stranded",
           computed=True),
    ]
    return out


FIELD_LIST: tuple[FieldSpec, ...] = tuple(
    _IDENTITY + _POWER + _HV + _LAND_WATER + _FIBRE + _PERMITS + _COOLING + _MINING + _computed()
)
FIELDS: dict[str, FieldSpec] = {f.name: f for f in FIELD_LIST}
EDITABLE_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELD_LIST if not f.computed)
COMPUTED_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELD_LIST if f.computed)

GROUP_LABELS: dict[str, str] = {
    "identity": "Identity and context",
    "power": "Power scale",
    "time_to_power": "Time to power",
    "hv": "HV infrastructure on site",
    "grid": "Grid proximity (computed)",
    "land": "Land",
    "water": "Water for cooling",
    "fibre": "Fibre and latency",
    "permits": "Permits and zoning",
    "cooling": "Cooling design",
    "redundancy": "Redundancy",
    "density": "Rack density / form factor",
    "labour": "Skilled labour",
    "equipment": "Long-lead equipment",
    "mining": "Mining fleet",
    "stranded": "Stranded energy (computed)",
}


def spec(name: str) -> FieldSpec:
    """Return the spec of a site field; raises KeyError naming the unknown field."""
    try:
        return FIELDS[name]
    except KeyError:
        raise KeyError(f"unknown site field {name!r}") from None


def empty_values() -> dict[str, Any]:
    """All fields set to unknown (None)."""
    return {f.name: None for f in FIELD_LIST}


# field names as they appear inside messages and reasons: with an underscore (``energized_mw``), plus lon/lat
_NAME_IN_TEXT = re.compile(r"\b(" + "|".join(sorted((re.escape(n) for n in FIELDS if "_" in n or n in ("lon", "lat")),
                                                     key=len, reverse=True)) + r")\b")


def _mid_sentence(label: str) -> str:
    # "Substation owned" -> "substation owned", but "N+1 transformers" and "AI/HPC partner" stay
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label


# text fields stored as a data code and shown by name (the stored value stays the code)
_TEXT_DISPLAY: dict[str, Callable[[str], str]] = {"fibre_network": network_text, "pop_name": pop_text}


def text_value(name: str, value: Any) -> str:
    """A text field's value as the form, the table, the report and the map popup show it: a
    Topology Zoo network code by its full name (``Tw`` -> ``TW Telecom (Topology Zoo code Tw)``)."""
    show = _TEXT_DISPLAY.get(name)
    return show(str(value)) if show is not None else str(value)


#: Field units that say what a number is but are no unit to print beside it.
_NO_UNIT = {"count": "", "deg": ""}


def field_unit(name: str) -> str:
    """The unit a site field's value is shown in (``km``, ``$/MWh``, ``1-5``); ``""`` for counts, degrees
    and fields without a unit."""
    unit = FIELDS[name].unit
    return _NO_UNIT.get(unit, unit)


def field_parts(name: str, value: Any) -> tuple[str, str]:
    """A site field's value as (value text, unit text): the one rule for the form, the sites table, the
    report and the map popup, driven by the field's :class:`FieldSpec` (kind, unit).

    Measures take :func:`planner.fmt.fmt_number`'s digits (``7.8``, ``km``; ``340``, ``km``; ``0.0044``,
    ``bcm/yr``; ``1,500``, ``acres``), money per unit :func:`planner.fmt.quantity_parts`'s (``38.55``,
    ``$/MWh``); longitude/latitude read ``31.90000°``; booleans ``yes``/``no``; choices in words
    (``in queue``); Topology Zoo codes by name. Unknown (None, NaN) is ``"unknown"`` with the field's
    unit, never 0.
    """
    fs = FIELDS[name]
    unit = field_unit(name)
    if value is None or (fs.kind in ("float", "int") and finite(value) is None):
        return UNKNOWN, unit
    if fs.kind == "bool":
        return ("yes" if value else "no"), unit
    if fs.kind == "enum":
        return fmt_choice(value), unit
    if fs.kind in ("float", "int"):
        if fs.unit == "deg":
            return f"{float(value):.5f}\u00b0", unit
        if unit.startswith("$/"):
            return quantity_parts(value, unit)
        return fmt_number(value), unit
    return text_value(name, value), unit


def field_text(name: str, value: Any) -> str:
    """:func:`field_parts` as one string: ``7.8 km``, ``$38.55/MWh``, ``4 of 5``, ``31.90000°``, ``yes``,
    ``unknown``."""
    text, unit = field_parts(name, value)
    if text == UNKNOWN or not unit or FIELDS[name].kind not in ("float", "int"):
        return text
    if unit == "1-5":
        return f"{text} of 5"
    return fmt_quantity(value, unit) if unit.startswith("$/") else f"{text} {unit}"


def humanize_field_names(text: str) -> str:
    """Field names inside a sentence become their labels: ``scored without substation_owned`` ->
    ``scored without substation owned`` (for reports and messages; plain words are left alone)."""
    return _NAME_IN_TEXT.sub(lambda m: _mid_sentence(FIELDS[m.group(1)].label), text)
