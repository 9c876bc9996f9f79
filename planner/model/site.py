"""The candidate site: an immutable record of typed attributes, validated at the edge."""
from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planner.model.fields import COMPUTED_FIELDS, FIELD_LIST, FIELDS, FieldSpec, spec
from planner.model.frozen import FrozenValues


class PlannerError(Exception):
    """Base of all errors the planner reports to users (one clear line each)."""


def first_line(e: BaseException) -> str:
    """The first line of an error message (a PlannerError's one-line user message), else its type."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


class SiteError(PlannerError, ValueError):
    """An invalid site attribute: says which field, which value, which rule and how to fix it."""

    def __init__(self, field: str, value: Any, rule: str, fix: str = "", site_id: str | None = None):
        self.field = field
        self.value = value
        self.rule = rule
        self.fix = fix
        self.site_id = site_id
        who = f"{site_id}: " if site_id else ""
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg = f"{who}{field} = {shown}: {rule}"
        if fix:
            msg += f". {fix}"
        super().__init__(msg)

    def with_site(self, site_id: str | None) -> "SiteError":
        return SiteError(self.field, self.value, self.rule, self.fix, site_id)


_TRUE = {"true", "yes", "y", "1", "t", "owned", "x"}
_FALSE = {"false", "no", "n", "0", "f", "none"}
_NULL_STRINGS = {"", "na", "n/a", "nan", "null", "none", "unknown", "?", "-", "--"}
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NUM_WITH_UNIT = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?)\s*([A-Za-z$/%0-9 ._-]*)$")


def _is_missing(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    if isinstance(raw, str) and raw.strip().lower() in _NULL_STRINGS:
        return True
    try:  # pandas NA / NaT without importing pandas here
        return bool(raw != raw)
    except Exception:
        return False


def _parse_number(fs: FieldSpec, raw: Any) -> float:
    if isinstance(raw, bool):
        raise SiteError(fs.name, raw, "expected a number, got a yes/no value", f"Enter a number in {fs.unit or 'the field unit'}")
    if isinstance(raw, (int, float)):
        return float(raw)
    if hasattr(raw, "item") and not isinstance(raw, str):  # numpy scalar
        return float(raw.item())
    text = str(raw).strip().replace("\u00a0", " ")
    m = _NUM_WITH_UNIT.match(text)
    if not m:
        raise SiteError(fs.name, raw, "is not a number", f"Enter a plain number in {fs.unit or 'the field unit'}")
    number, unit = m.group(1), m.group(2).strip()
    if unit and fs.unit and unit.lower().replace(" ", "") != fs.unit.lower().replace(" ", ""):
        raise SiteError(fs.name, raw, f"unit {unit!r} does not match the field unit {fs.unit!r}",
                        f"Convert to {fs.unit} and enter the number only")
    if unit and not fs.unit:
        raise SiteError(fs.name, raw, "is not a number", "Enter a plain number")
    if "," in number:
        # a decimal comma ("12,5") is only accepted when unambiguous: "1,234" may be 1234 or 1.234
        if re.match(r"^[-+]?[1-9]\d{0,2},\d{3}$", number):
            raise SiteError(fs.name, raw, "is ambiguous: the comma may separate thousands or decimals",
                            "Enter the number without a thousands separator, with a decimal point (1234 or 1.234)")
        number = number.replace(",", ".")
    return float(number)


def coerce_value(name: str, raw: Any) -> Any:
    """Turn a raw value (typed in a cell, read from a file) into the field's type.

    Returns ``None`` for unknown. Raises :class:`SiteError` with the rule and the fix.
    """
    fs = spec(name)
    if fs.kind == "enum" and isinstance(raw, str) and raw.strip().lower() in fs.choices:
        return raw.strip().lower()  # "none" is a real choice (interconnection, permits), not unknown
    if _is_missing(raw):
        return None
    if fs.kind == "str":
        text = _CTRL.sub("", str(raw)).strip()
        if len(text) > fs.max_length:
            raise SiteError(name, raw, f"is longer than {fs.max_length} characters", "Shorten the text")
        return text or None
    if fs.kind in ("float", "int"):
        value = _parse_number(fs, raw)
        if math.isnan(value) or math.isinf(value):
            raise SiteError(name, raw, "must be a finite number", "Enter a number or leave it empty for unknown")
        if fs.kind == "int":
            if value != int(value):
                raise SiteError(name, raw, "must be a whole number", "Enter a whole number")
            value = int(value)
        if fs.minimum is not None and value < fs.minimum:
            neg = " (negative values are not allowed)" if fs.minimum == 0 else ""
            raise SiteError(name, raw, f"is below the minimum {fs.minimum:g} {fs.unit}".rstrip() + neg,
                            f"Enter a value between {fs.minimum:g} and {fs.maximum:g} {fs.unit}".rstrip())
        if fs.maximum is not None and value > fs.maximum:
            raise SiteError(name, raw, f"is above the maximum {fs.maximum:g} {fs.unit}".rstrip(),
                            f"Enter a value between {fs.minimum:g} and {fs.maximum:g} {fs.unit}".rstrip())
        return value
    if fs.kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, (int, float)) and raw in (0, 1):
            return bool(raw)
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise SiteError(name, raw, "expected yes or no", "Enter yes, no, or leave empty for unknown")
    if fs.kind == "enum":
        text = str(raw).strip().lower().replace(" ", "_").replace("-", "_")
        for c in fs.choices:
            if text == c.lower().replace("+", "_plus_").replace("-", "_") or text == c.lower() \
                    or str(raw).strip() == c:
                return c
        if text.replace("_plus_", "+").upper() in fs.choices:  # redundancy "n+1"
            return text.replace("_plus_", "+").upper()
        if str(raw).strip().upper() in fs.choices:
            return str(raw).strip().upper()
        raise SiteError(name, raw, "is not one of the allowed values", "Choose one of: " + ", ".join(fs.choices))
    if fs.kind == "date":
        if isinstance(raw, _dt.datetime):
            return raw.date().isoformat()
        if isinstance(raw, _dt.date):
            return raw.isoformat()
        text = str(raw).strip()
        try:
            return _dt.date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            raise SiteError(name, raw, "is not a date", "Use the form YYYY-MM-DD") from None
    raise SiteError(name, raw, f"has unsupported kind {fs.kind}")  # pragma: no cover


@dataclass(frozen=True)
class Issue:
    """A validation finding. ``severity`` is "error" (refused) or "warning" (kept, shown)."""

    site_id: str | None
    field: str
    message: str
    severity: str = "error"


def cross_field_issues(values: Mapping[str, Any]) -> list[Issue]:
    """Rules that involve several fields (each says how to fix it)."""
    sid = values.get("site_id")
    out: list[Issue] = []
    cap, en, pipe = values.get("power_capacity_mw"), values.get("energized_mw"), values.get("pipeline_mw")
    if cap is not None and en is not None and en > cap:
        out.append(Issue(sid, "energized_mw", f"energized_mw ({en:g} MW) exceeds power_capacity_mw ({cap:g} MW). "
                         "Raise the gross capacity or lower the energized MW"))
    if cap is not None and pipe is not None and en is not None and en + pipe > cap * 1.0001 + 1e-9:
        out.append(Issue(sid, "pipeline_mw", f"energized_mw + pipeline_mw ({en + pipe:g} MW) exceeds "
                         f"power_capacity_mw ({cap:g} MW). Raise the gross capacity or lower the pipeline"))
    lon, lat = values.get("lon"), values.get("lat")
    if (lon is None) != (lat is None):
        out.append(Issue(sid, "lon" if lon is None else "lat",
                         "longitude and latitude must both be known or both unknown. Enter the missing coordinate"))
    tc, n1 = values.get("transformer_count"), values.get("transformers_n_plus_1")
    if n1 is True and tc is not None and tc < 2:
        out.append(Issue(sid, "transformers_n_plus_1", f"N+1 transformers needs at least 2 transformers "
                         f"(transformer_count = {tc}). Correct the count or untick N+1"))
    if values.get("interconnection_status") == "energized" and en is not None and en == 0:
        out.append(Issue(sid, "interconnection_status", "interconnection is 'energized' but energized_mw is 0. "
                         "Enter the energized MW or change the status"))
    return out


class Site(FrozenValues):
    """An immutable candidate site. Attribute access by field name (``site.energized_mw``).

    Unknown values are ``None``. Create with :meth:`create` (validates) and change
    with :meth:`replace` (validates the changed fields and the cross-field rules).
    """

    # -- typed fields: generated by scripts/typed_fields.py from FIELD_LIST; do not edit by hand --
    if TYPE_CHECKING:
        site_id: str
        name: str
        operator: str | None
        lon: float | None
        lat: float | None
        location_precision: str | None
        locality: str | None
        admin1: str | None
        country: str | None
        status: str
        ai_partner: str | None
        notes: str | None
        sources: str | None
        power_capacity_mw: float | None
        energized_mw: float | None
        pipeline_mw: float | None
        interconnection_status: str | None
        expected_energization_date: str | None
        power_price_usd_per_mwh: float | None
        substation_owned: bool | None
        substation_voltage_kv: float | None
        transformer_count: int | None
        transformers_n_plus_1: bool | None
        land_acres: float | None
        land_expandable: bool | None
        water_source: str | None
        water_volume_m3_per_year: float | None
        water_stress: str | None
        dark_fibre_on_site: bool | None
        latency_to_metro_ms: float | None
        power_permit: str | None
        zoning: str | None
        moratorium_risk: str | None
        cooling_current: str | None
        dlc_path: str | None
        redundancy_power: str | None
        redundancy_cooling: str | None
        redundancy_network: str | None
        max_rack_kw: float | None
        hall_type: str | None
        labour_rating: int | None
        equipment_status: str | None
        equipment_lead_time_months: float | None
        asic_model: str | None
        fleet_mw: float | None
        fleet_hashrate_ph_s: float | None
        fleet_j_per_th: float | None
        fleet_age_years: float | None
        dist_line_69kv_km: float | None
        line_69kv_voltage_kv: float | None
        line_69kv_operator: str | None
        line_69kv_name: str | None
        dist_line_138kv_km: float | None
        line_138kv_voltage_kv: float | None
        line_138kv_operator: str | None
        line_138kv_name: str | None
        dist_line_230kv_km: float | None
        line_230kv_voltage_kv: float | None
        line_230kv_operator: str | None
        line_230kv_name: str | None
        dist_line_345kv_km: float | None
        line_345kv_voltage_kv: float | None
        line_345kv_operator: str | None
        line_345kv_name: str | None
        dist_line_500kv_km: float | None
        line_500kv_voltage_kv: float | None
        line_500kv_operator: str | None
        line_500kv_name: str | None
        dist_substation_km: float | None
        substation_name: str | None
        substation_max_kv: float | None
        dist_fibre_km: float | None
        fibre_network: str | None
        dist_pop_km: float | None
        pop_name: str | None
        stranded_region: str | None
        dist_stranded_km: float | None
        flare_count: int | None
        flare_volume_bcm: float | None
    # -- end of typed fields --

    __slots__ = ("_values",)
    _IMMUTABLE_MESSAGE = "Site is immutable; use site.replace(...)"
    _values: dict[str, Any]

    def __init__(self, values: Mapping[str, Any]):
        v = {f.name: None for f in FIELD_LIST}
        v.update({k: values[k] for k in values if k in FIELDS})
        object.__setattr__(self, "_values", v)

    # -- construction -------------------------------------------------------------
    @classmethod
    def create(cls, strict: bool = True, **raw: Any) -> "Site":
        """Validate and coerce ``raw`` values; unknown keys raise."""
        values: dict[str, Any] = {}
        sid = raw.get("site_id")
        for k, r in raw.items():
            if k not in FIELDS:
                raise SiteError(k, r, "is not a site field", "Check the spelling; see planner.model.fields", sid)
            try:
                values[k] = coerce_value(k, r)
            except SiteError as e:
                raise e.with_site(sid if isinstance(sid, str) else None) from None
        for f in FIELD_LIST:
            if f.required and values.get(f.name) is None and f.name != "status":
                raise SiteError(f.name, None, "is required", f"Enter a {f.label.lower()}", sid)
        if values.get("status") is None:
            values["status"] = "operating"
        site = cls(values)
        if strict:
            errs = [i for i in cross_field_issues(site._values) if i.severity == "error"]
            if errs:
                raise SiteError(errs[0].field, site._values.get(errs[0].field), errs[0].message, "", sid)
        return site

    def replace(self, **changes: Any) -> "Site":
        """A copy with ``changes`` applied (coerced and validated); the original is unchanged."""
        new = dict(self._values)
        for k, r in changes.items():
            if k not in FIELDS:
                raise SiteError(k, r, "is not a site field", "", self.site_id)
            try:
                new[k] = coerce_value(k, r)
            except SiteError as e:
                raise e.with_site(self.site_id) from None
        for f in FIELD_LIST:
            if f.required and new.get(f.name) is None:
                raise SiteError(f.name, None, "is required", f"Enter a {f.label.lower()}", self.site_id)
        errs = [i for i in cross_field_issues(new) if i.severity == "error"]
        touched = set(changes)
        relevant = [i for i in errs if i.field in touched or _involves(i, touched)]
        if relevant:
            i = relevant[0]
            # name the field the user changed (editing Energized must not be refused as "Pipeline")
            field = i.field if i.field in touched else next((f for f in changes if _involves(i, {f})), i.field)
            raise SiteError(field, new.get(field), i.message, "", self.site_id)
        return Site(new)

    def with_computed(self, computed: Mapping[str, Any]) -> "Site":
        """A copy with computed (proximity) fields set; no validation of user fields."""
        new = dict(self._values)
        for k, v in computed.items():
            if k not in COMPUTED_FIELDS:
                raise KeyError(f"{k!r} is not a computed field")
            new[k] = None if _is_missing(v) else v
        return Site(new)

    # -- access ----------------------------------------------------------------------

    def get(self, name: str) -> Any:
        return self._values[spec(name).name]

    def to_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Site) and other._values == self._values

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, str(v)) for k, v in self._values.items())))

    def __repr__(self) -> str:
        return f"Site({self.site_id!r}, {self.name!r})"

    @property
    def has_location(self) -> bool:
        return self.lon is not None and self.lat is not None

    def issues(self) -> list[Issue]:
        """Cross-field issues plus warnings about unknowns that matter for scoring."""
        return cross_field_issues(self._values)


def _involves(issue: Issue, touched: set[str]) -> bool:
    related = {
        "energized_mw": {"power_capacity_mw", "energized_mw"},
        "pipeline_mw": {"power_capacity_mw", "energized_mw", "pipeline_mw"},
        "lon": {"lon", "lat"}, "lat": {"lon", "lat"},
        "transformers_n_plus_1": {"transformer_count", "transformers_n_plus_1"},
        "interconnection_status": {"interconnection_status", "energized_mw"},
    }
    return bool(related.get(issue.field, {issue.field}) & touched)


def validate_records(records: Iterable[Mapping[str, Any]]) -> list[Issue]:
    """Validate raw records (e.g. an import); returns every issue instead of stopping at the first."""
    out: list[Issue] = []
    seen: set[str] = set()
    for row, rec in enumerate(records, start=1):
        sid = rec.get("site_id")
        for k, r in rec.items():
            if k not in FIELDS:
                continue
            try:
                coerce_value(k, r)
            except SiteError as e:
                out.append(Issue(sid, k, f"row {row}: {e}"))
        if sid in seen:
            out.append(Issue(sid, "site_id", f"row {row}: duplicate site_id {sid!r}. Give each site a unique ID"))
        if sid:
            seen.add(sid)
    return out
