"""One import policy for sites, shared by ``planner import`` and the app (pure Python, no Qt).

What happens when an imported site's ``site_id`` is already in the project:

- ``merge`` (CLI default): the project's site is updated field by field with the file's *known*
  values (an empty cell never erases what the project knows; computed fields are not touched);
- ``rename`` (app default): the imported site is added under a new ID (``ID-2``, ``ID-3``...);
- ``reject``: the imported site is left out and reported.

:func:`plan_site_import` decides without changing anything (one pass over the file's sites, dict
look-ups only, so 1,000,000 rows merge in seconds); :func:`apply_site_import` applies the plan.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from planner.model.fields import COMPUTED_FIELDS
from planner.model.site import Site, SiteError

POLICIES: tuple[str, ...] = ("merge", "rename", "reject")
_COMPUTED = frozenset(COMPUTED_FIELDS)
_ID_MAX = 64
# letters that Unicode does not decompose into ASCII
_LATIN = str.maketrans({"Ø": "O", "ø": "o", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "ß": "ss", "Ł": "L",
                        "ł": "l", "Đ": "D", "đ": "d", "Þ": "TH", "þ": "th", "ı": "i"})


def id_from_name(name: Any, taken: set[str] | Mapping[str, Any], fallback: str = "SITE") -> str:
    """A site ID made from a name: upper-case ASCII words joined by '-', unique in ``taken``.

    Stable: the same name gives the same ID as long as it is free (``Rockdale (TX)`` -> ``ROCKDALE-TX``),
    a clash gets ``-2``, ``-3``... Callers add the result to ``taken``.
    """
    text = unicodedata.normalize("NFKD", str(name or "").translate(_LATIN)).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").upper()[:_ID_MAX - 4] or fallback
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base}-{n}"
        n += 1
    return candidate


@dataclass
class SiteImportPlan:
    """What an import will do: sites to add, updates (new versions of project sites), and notes."""

    policy: str
    additions: list[Site] = field(default_factory=list)
    updates: list[Site] = field(default_factory=list)
    unchanged: int = 0
    renamed: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (site_id, reason)

    def summary(self) -> str:
        parts = [f"Sites: {len(self.additions)} added, {len(self.updates)} updated, {self.unchanged} unchanged"]
        if self.renamed:
            shown = ", ".join(f"{a} -> {b}" for a, b in self.renamed[:5])
            parts.append(f"{len(self.renamed)} renamed because the ID was taken ({shown}"
                         f"{' ...' if len(self.renamed) > 5 else ''})")
        if self.rejected:
            shown = "; ".join(f"{sid}: {why}" for sid, why in self.rejected[:5])
            parts.append(f"{len(self.rejected)} not imported ({shown}{' ...' if len(self.rejected) > 5 else ''})")
        return ", ".join(parts) + "."


def plan_site_import(existing: Mapping[str, Site] | Iterable[Site], incoming: Iterable[Site],
                     policy: str = "merge") -> SiteImportPlan:
    """Decide what importing ``incoming`` into ``existing`` does under ``policy`` (see module doc).

    A merge that would make a project site invalid (e.g. energized MW above its capacity) rejects
    that site with the reason instead of failing the whole import.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown import policy {policy!r}; use one of {', '.join(POLICIES)}")
    current: dict[str, Site] = dict(existing) if isinstance(existing, Mapping) else \
        {s.site_id: s for s in existing}
    taken = set(current)
    plan = SiteImportPlan(policy)
    for s in incoming:
        old = current.get(s.site_id)
        if old is None:
            if s.site_id in taken:  # a duplicate inside the file itself: already added once
                plan.rejected.append((s.site_id, "the file holds this site_id twice"))
                continue
            plan.additions.append(s)
            taken.add(s.site_id)
            continue
        if policy == "reject":
            plan.rejected.append((s.site_id, "site_id already in the project"))
        elif policy == "rename":
            new_id = _next_free(s.site_id, taken)
            taken.add(new_id)
            plan.renamed.append((s.site_id, new_id))
            plan.additions.append(s.replace(site_id=new_id))
        else:
            old_values = old._values  # read-only peek: no copy of ~80 fields per row
            changes = {k: v for k, v in s._values.items()
                       if v is not None and k not in _COMPUTED and old_values.get(k) != v}
            if not changes:
                plan.unchanged += 1
                continue
            try:
                new = old.replace(**changes)
            except SiteError as e:
                plan.rejected.append((s.site_id, f"merging would make it invalid ({e})"))
                continue
            plan.updates.append(new)
            current[s.site_id] = new
    return plan


def _next_free(base: str, taken: set[str]) -> str:
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def apply_site_import(portfolio: Any, plan: SiteImportPlan) -> None:
    """Apply a plan to a :class:`planner.model.portfolio.Portfolio` (one replace, then the additions)."""
    if plan.updates:
        portfolio.replace_sites(plan.updates)
    for s in plan.additions:
        portfolio.add_site(s)
