"""Assumptions and weights editor (a dock): every economic assumption, the scenario and the weights profiles.

Every change is an undoable command on the host's undo stack that changes
``portfolio.settings`` only (saved with the project); widgets follow ``settings_changed``.
Rows show the value in force (defaults < scenario < user overrides); a user override is bold
and its reset button puts the scenario/default value back.
"""
from __future__ import annotations

import copy
import datetime as _dt
import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QUndoCommand, QValidator
from PySide6.QtWidgets import (QAbstractSpinBox, QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QInputDialog, QLabel, QLineEdit, QPushButton, QScrollArea, QSpinBox,
                               QTabWidget, QToolButton, QVBoxLayout, QWidget)

from planner.model.assumptions import (ASSUMPTIONS, GROUP_LABELS, SCENARIOS, AssumptionError, AssumptionSpec,
                                       assumptions_from_settings, coerce_assumption, scenario_overrides)
from planner.model.portfolio import Portfolio
from planner.model.readiness import (BUILTIN_WEIGHTS_PROFILES, CRITERIA, DEFAULT_WEIGHTS, ReadinessError,
                                     WeightsProfile, weights_from_settings, weights_profiles)
from planner.model.site import PlannerError
from planner.ui.commands import SetSettingCommand

MAX_WEIGHT = 100.0


class EditorError(PlannerError, ValueError):
    """A refused edit in the assumptions/weights editor (names the rule and the fix)."""


class SetAssumptionCommand(SetSettingCommand):
    """Change ``settings["assumptions"]``; bursts on the same assumption merge into one undo step."""

    def __init__(self, portfolio: Portfolio, assumption_key: str, overrides: dict[str, Any], text: str):
        super().__init__(portfolio, "assumptions", overrides, text=text, target=("assumption", assumption_key))
        self.assumption_key = assumption_key


class SetWeightCommand(SetSettingCommand):
    """Change ``settings["weights_profiles"]`` for one criterion of one profile (bursts merge)."""

    def __init__(self, portfolio: Portfolio, profile: str, criterion: str, profiles: dict[str, Any], text: str):
        super().__init__(portfolio, "weights_profiles", profiles, text=text, target=("weight", profile, criterion))
        self.target = (profile, criterion)


def _shown(spec: AssumptionSpec, value: Any) -> str:
    """A value with its unit as the CLI and the reports print it (planner.fmt via ``spec.display``)."""
    return spec.display(value)


def _display_scale(spec: AssumptionSpec) -> tuple[float, int, str] | None:
    """How a float assumption reads best: (factor, digits, suffix), or None to show it as stored.

    Rates and shares as percentages (0.30 1/yr -> ``30 %/yr``), network difficulty in T
    (152000000000000 -> ``152 T``); the stored value keeps its unit.
    """
    if spec.kind != "float":
        return None
    if spec.unit == "1/yr":
        return 100.0, 2, " %/yr"
    if spec.unit == "fraction" or spec.unit.startswith("fraction "):
        return 100.0, 2, " %"
    if spec.key == "difficulty" or (spec.minimum or 0) >= 1e12:
        return 1e-12, 1, " T"
    return None


class ScaledSpinBox(QDoubleSpinBox):
    """A spin box whose value is in the model's unit but whose text is scaled (percent, T)."""

    def __init__(self, factor: float, digits: int, suffix: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.factor, self.digits = factor, digits
        self.setDecimals(max(0, digits + round(math.log10(factor))))  # model-unit decimals behind the shown digits
        self.setSuffix(suffix)

    def _number(self, text: str) -> float | None:
        t = text.strip()
        if self.suffix() and t.endswith(self.suffix().strip()):
            t = t[: -len(self.suffix().strip())]
        t = t.strip().replace(self.locale().groupSeparator(), "").replace(",", "")
        try:
            return float(t) / self.factor
        except ValueError:
            return None

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return f"{value * self.factor:,.{self.digits}f}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        v = self._number(text)
        return self.value() if v is None else v

    def validate(self, text: str, pos: int) -> object:
        t = text.strip()
        core = t[: -len(self.suffix().strip())].strip() if self.suffix() and t.endswith(self.suffix().strip()) else t
        if core in ("", "-", "+", ".", "-.", "+."):
            return QValidator.State.Intermediate, text, pos
        v = self._number(text)
        if v is None:
            return QValidator.State.Invalid, text, pos
        ok = self.minimum() - 1e-12 <= v <= self.maximum() + 1e-12
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos


def _decimals(spec: AssumptionSpec) -> int:
    lo, hi = spec.minimum or 0.0, spec.maximum or 1.0
    span = abs(hi - lo)
    if span <= 2:
        return 4
    if span <= 50:
        return 2
    return 2 if abs(float(spec.default)) < 1e5 else 0


class AssumptionsEditor(QWidget):
    """Grouped, range-checked editors for :data:`planner.model.assumptions.ASSUMPTIONS`, scenario and weights."""

    edit_rejected = Signal(str)

    def __init__(self, host: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("AssumptionsEditor")
        self.host = host
        self.editors: dict[str, QWidget] = {}
        self.reset_buttons: dict[str, QToolButton] = {}
        self.name_labels: dict[str, QLabel] = {}
        self.weight_spins: dict[str, QDoubleSpinBox] = {}
        self._updating = False
        self._build_ui()
        self._connect()
        self.sync_from_settings()

    # == construction ==========================================================================
    def _build_ui(self) -> None:
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_assumptions_tab(), "Assumptions")
        self.tabs.addTab(self._build_weights_tab(), "Readiness weights")
        self.message = QLabel(self)
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b2182b; font-size: 8pt;")
        v = QVBoxLayout(self)
        v.setContentsMargins(2, 2, 2, 2)
        v.addWidget(self.tabs, 1)
        v.addWidget(self.message)

    def _build_assumptions_tab(self) -> QWidget:
        tab = QWidget(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Scenario:", tab))
        self.scenario_combo = QComboBox(tab)
        self.scenario_combo.setObjectName("scenarioCombo")
        self.scenario_combo.setToolTip("base / bull / bear set some market and lease assumptions; "
                                       "your own overrides (bold) apply on top")
        top.addWidget(self.scenario_combo, 1)
        self.save_scenario_button = QPushButton("Save as scenario\u2026", tab)
        self.save_scenario_button.setToolTip("Store the values in force as a named custom scenario")
        top.addWidget(self.save_scenario_button)
        self.curve_button = QPushButton("Forward curve\u2026", tab)
        self.curve_button.setObjectName("forwardCurve")
        self.curve_button.setToolTip("Paste or import a hashprice forward curve (date, $/PH/day per line, e.g. a "
                                     "published forwards table) and use it as the outlook")
        top.addWidget(self.curve_button)
        self.reset_all_button = QPushButton("Reset all", tab)
        self.reset_all_button.setObjectName("resetAll")
        self.reset_all_button.setToolTip("Remove every user override (back to the scenario's values)")
        top.addWidget(self.reset_all_button)
        body = QWidget(tab)
        bv = QVBoxLayout(body)
        bv.setContentsMargins(0, 0, 0, 0)
        groups: dict[str, list[AssumptionSpec]] = {}
        for spec in ASSUMPTIONS.values():
            groups.setdefault(spec.group, []).append(spec)
        for group, specs in groups.items():
            box = QGroupBox(GROUP_LABELS.get(group, group), body)
            grid = QGridLayout(box)
            grid.setContentsMargins(4, 4, 4, 4)
            grid.setHorizontalSpacing(6)
            grid.setColumnStretch(0, 3)
            grid.setColumnStretch(1, 2)
            for row, spec in enumerate(specs):
                self._add_row(grid, row, spec, box)
            bv.addWidget(box)
        bv.addStretch(1)
        scroll = QScrollArea(tab)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        v = QVBoxLayout(tab)
        v.setContentsMargins(0, 0, 0, 0)
        v.addLayout(top)
        v.addWidget(scroll, 1)
        return tab

    def _add_row(self, grid: QGridLayout, row: int, spec: AssumptionSpec, parent: QWidget) -> None:
        tip = (f"<b>{spec.label}</b> ({spec.key})<br>{spec.display_source}<br>Default: {_shown(spec, spec.default)}"
               + (f"<br>Range: {_shown(spec, spec.minimum)} to {_shown(spec, spec.maximum)}"
                  if spec.minimum is not None and spec.maximum is not None else ""))
        name = QLabel(spec.label, parent)
        name.setToolTip(tip)
        name.setWordWrap(True)
        name.setMinimumWidth(150)
        self.name_labels[spec.key] = name
        editor = self._make_editor(spec, parent)
        editor.setObjectName(f"edit_{spec.key}")
        editor.setMaximumWidth(150)
        editor.setToolTip(tip)
        scaled = _display_scale(spec)
        unit_text = spec.display_parts(spec.default)[1] if scaled is not None else spec.unit
        if isinstance(editor, (QDoubleSpinBox, QSpinBox)) and editor.suffix():
            unit_text = ""  # in the box itself (see _make_editor): only the default beside it
        unit = QLabel(f"{unit_text}<br><span style='color:#888; font-size:7pt'>default "
                      f"{_shown(spec, spec.default)}</span>" if unit_text else
                      f"<span style='color:#888; font-size:7pt'>default {_shown(spec, spec.default)}</span>", parent)
        unit.setObjectName(f"unit_{spec.key}")
        unit.setStyleSheet("color: #555;")
        unit.setToolTip(tip)
        reset = QToolButton(parent)
        reset.setText("\u21ba")
        reset.setObjectName(f"reset_{spec.key}")
        reset.setToolTip(f"Reset {spec.label} to the default {_shown(spec, spec.default)} "
                         "(or the scenario's value)")
        reset.clicked.connect(lambda _c=False, k=spec.key: self.reset_assumption(k))
        self.reset_buttons[spec.key] = reset
        grid.addWidget(name, row, 0)
        grid.addWidget(editor, row, 1)
        grid.addWidget(unit, row, 2)
        grid.addWidget(reset, row, 3)
        self.editors[spec.key] = editor

    def _make_editor(self, spec: AssumptionSpec, parent: QWidget) -> QWidget:
        key = spec.key
        scaled = _display_scale(spec)
        if scaled is not None:
            factor, digits, suffix = scaled
            ws = ScaledSpinBox(factor, digits, suffix, parent)
            ws.setRange(float(spec.minimum), float(spec.maximum))  # type: ignore[arg-type]
            ws.setSingleStep(1.0 / factor if factor < 1 else 0.01 if factor == 100.0 else 1.0)
            ws.setKeyboardTracking(False)
            ws.valueChanged.connect(lambda v, k=key: self.set_assumption(k, float(v)))
            return ws
        if spec.kind == "float":
            w = QDoubleSpinBox(parent)
            w.setDecimals(_decimals(spec))
            w.setRange(float(spec.minimum), float(spec.maximum))  # type: ignore[arg-type]
            w.setSingleStep(max((spec.maximum - spec.minimum) / 100.0, 10 ** -w.decimals()))  # type: ignore[operator]
            w.setKeyboardTracking(False)
            w.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            w.setGroupSeparatorShown(True)  # 90,000 $/BTC as the CLI and reports print it, not 90000.00
            if spec.unit:  # the unit beside the number: the unit column is off the edge of a laptop's dock (QA)
                w.setSuffix(f" {spec.unit}")
            w.valueChanged.connect(lambda v, k=key: self.set_assumption(k, float(v)))
            return w
        if spec.kind == "int":
            w2 = QSpinBox(parent)
            w2.setRange(int(spec.minimum), int(min(spec.maximum, 2**31 - 1)))  # type: ignore[arg-type]
            w2.setKeyboardTracking(False)
            w2.setGroupSeparatorShown(True)
            if spec.unit:
                w2.setSuffix(f" {spec.unit}")
            w2.valueChanged.connect(lambda v, k=key: self.set_assumption(k, int(v)))
            return w2
        if spec.kind == "str" and (spec.choices or key == "asic_model"):
            w3 = QComboBox(parent)  # choices by their label (planner.model.assumptions.CHOICE_LABELS), key as data
            w3.currentIndexChanged.connect(
                lambda i, k=key, c=w3: self.set_assumption(k, c.itemData(i)) if i >= 0 and c.itemData(i) else None)
            return w3
        w4 = QLineEdit(parent)
        w4.editingFinished.connect(lambda k=key, e=w4: self.set_assumption(k, e.text()))
        return w4

    def _build_weights_tab(self) -> QWidget:
        tab = QWidget(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Profile:", tab))
        self.profile_combo = QComboBox(tab)
        self.profile_combo.setObjectName("profileCombo")
        self.profile_combo.setToolTip("Active weights profile (saved with the project)")
        top.addWidget(self.profile_combo, 1)
        self.new_profile_button = QPushButton("New\u2026", tab)
        self.new_profile_button.setToolTip("Copy the active profile under a new name")
        self.rename_profile_button = QPushButton("Rename\u2026", tab)
        self.rename_profile_button.setToolTip("Rename the active custom profile (built-in profiles keep their name)")
        self.reset_weights_button = QPushButton("Reset weights", tab)
        self.reset_weights_button.setToolTip("Put the active profile's built-in (or default) weights back")
        for b in (self.new_profile_button, self.rename_profile_button, self.reset_weights_button):
            top.addWidget(b)
        form = QFormLayout()
        for c in CRITERIA:
            spin = QDoubleSpinBox(tab)
            spin.setObjectName(f"weight_{c.key}")
            spin.setRange(0.0, MAX_WEIGHT)
            spin.setDecimals(1)
            spin.setSingleStep(1.0)
            spin.setKeyboardTracking(False)
            spin.setToolTip(f"{c.label}: {c.rule}<br>Default weight {c.default_weight:g}; 0 switches it off")
            spin.valueChanged.connect(lambda v, k=c.key: self.set_weight(k, float(v)))
            self.weight_spins[c.key] = spin
            label = QLabel(c.label, tab)
            label.setToolTip(c.rule)
            form.addRow(label, spin)
        self.weights_total = QLabel(tab)
        self.weights_total.setStyleSheet("color: #555; font-size: 8pt;")
        v = QVBoxLayout(tab)
        v.addLayout(top)
        v.addLayout(form)
        v.addWidget(self.weights_total)
        v.addStretch(1)
        return tab

    def _connect(self) -> None:
        self.scenario_combo.activated.connect(lambda _i: self.set_scenario(self.scenario_combo.currentData()))
        self.reset_all_button.clicked.connect(lambda _c=False: self.reset_all())
        self.save_scenario_button.clicked.connect(lambda _c=False: self._on_save_scenario_clicked())
        self.curve_button.clicked.connect(lambda _c=False: self._on_forward_curve_clicked())
        self.profile_combo.activated.connect(lambda _i: self.set_profile(self.profile_combo.currentData()))
        self.new_profile_button.clicked.connect(lambda _c=False: self._on_new_profile_clicked())
        self.rename_profile_button.clicked.connect(lambda _c=False: self._on_rename_profile_clicked())
        self.reset_weights_button.clicked.connect(lambda _c=False: self.reset_weights())
        session = self.host.session
        session.settings_changed.connect(self._on_session_settings_changed)
        session.project_changed.connect(self._on_session_project_changed)
        self.sync_from_settings()

    def _on_session_project_changed(self, _project: Any) -> None:
        self.sync_from_settings()

    # == state =====================================================================================
    @property
    def portfolio(self) -> Portfolio:
        """The open portfolio."""
        return self.host.session.portfolio

    @property
    def settings(self) -> dict[str, Any]:
        """The portfolio settings (read only here; change them through commands)."""
        return self.portfolio.settings

    def overrides(self) -> dict[str, Any]:
        """The user's assumption overrides (``settings["assumptions"]``)."""
        return dict(self.settings.get("assumptions") or {})

    def _push(self, cmd: QUndoCommand) -> None:
        self.message.setText("")
        self.host.undo_stack.push(cmd)

    def _reject(self, message: str) -> None:
        self.message.setText(message)
        self.edit_rejected.emit(message)
        self.host.show_status(message)
        self.sync_from_settings()

    # == assumptions ================================================================================
    def set_assumption(self, key: str, value: Any) -> bool:
        """Set one assumption as a user override (one undo step); False when refused or unchanged."""
        if self._updating:
            return False
        spec = ASSUMPTIONS[key]
        try:
            checked = coerce_assumption(key, value, assumptions_from_settings(self.settings).catalogue)
            current = assumptions_from_settings(self.settings)[key]
        except PlannerError as e:
            self._reject(str(e).splitlines()[0])
            return False
        if checked == current:
            return False
        over = self.overrides()
        base = self._scenario_value(key)
        if checked == base:
            over.pop(key, None)  # same as the scenario/default: no override needed
        else:
            over[key] = checked
        try:
            assumptions_from_settings({**self.settings, "assumptions": over})
        except PlannerError as e:
            self._reject(str(e).splitlines()[0])
            return False
        self._push(SetAssumptionCommand(self.portfolio, key, over,
                                        f"Set {spec.label} = {_shown(spec, checked)}"))
        return True

    def _scenario_value(self, key: str) -> Any:
        name = self.settings.get("scenario") or "base"
        try:
            over = scenario_overrides(str(name), self.settings)
        except AssumptionError:
            over = {}
        return coerce_assumption(key, over[key]) if key in over else coerce_assumption(key, ASSUMPTIONS[key].default)

    def reset_assumption(self, key: str) -> bool:
        """Remove the user override of ``key`` (back to the scenario's value or the default)."""
        over = self.overrides()
        if key not in over:
            return False
        del over[key]
        self._push(SetAssumptionCommand(self.portfolio, key, over, f"Reset {ASSUMPTIONS[key].label}"))
        return True

    def reset_all(self) -> bool:
        """Remove every user override in one undo step."""
        if not self.overrides():
            return False
        self._push(SetSettingCommand(self.portfolio, "assumptions", {}, text="Reset all assumptions", merge=False))
        return True

    def scenario_names(self) -> list[str]:
        """Built-in scenarios then the custom ones saved in the project."""
        custom = self.settings.get("scenarios") or {}
        return list(SCENARIOS) + [n for n in custom if n not in SCENARIOS]

    def set_scenario(self, name: str) -> bool:
        """Switch the scenario (one undo step)."""
        if name not in self.scenario_names():
            self._reject(f"scenario {name!r} is unknown. Choose one of: {', '.join(self.scenario_names())}")
            return False
        if (self.settings.get("scenario") or "base") == name:
            return False
        self._push(SetSettingCommand(self.portfolio, "scenario", name, text=f"Switch to scenario {name}",
                                     merge=False))
        return True

    def save_scenario(self, name: str) -> bool:
        """Store the values in force (scenario + overrides) as custom scenario ``name`` and switch to it."""
        name = name.strip()
        if not name:
            self._reject("scenario name is empty. Enter a name")
            return False
        if name in SCENARIOS:
            self._reject(f"scenario {name!r} is built in. Choose another name")
            return False
        a = assumptions_from_settings(self.settings)
        values = {k: a[k] for k in ASSUMPTIONS if a[k] != coerce_assumption(k, ASSUMPTIONS[k].default)}
        scenarios = copy.deepcopy(self.settings.get("scenarios") or {})
        scenarios[name] = values
        self._set_settings(f"Save scenario {name}", ("scenarios", scenarios), ("assumptions", {}), ("scenario", name))
        return True

    def set_forward_curve(self, text: str) -> bool:
        """Store the pasted/imported hashprice forward curve and use it as the outlook (one undo step).

        Empty text removes the curve and returns to the cost-floor outlook.
        """
        from planner.model.assumptions import AssumptionError as _AE
        from planner.model.outlook import parse_forward_curve_text

        overrides = dict(self.overrides())
        if not text.strip():
            overrides.pop("outlook_model", None)
            curve: list[list[Any]] | None = None
            label = "Remove the hashprice forward curve"
        else:
            try:
                curve = [list(p) for p in parse_forward_curve_text(text, "pasted forward curve")]
            except _AE as e:
                self._reject(str(e))
                return False
            overrides["outlook_model"] = "forward_curve"
            label = f"Hashprice forward curve ({len(curve)} points)"
        self._set_settings(label, ("hashprice_forward_curve", curve), ("assumptions", overrides))
        return True

    def _on_forward_curve_clicked(self) -> None:
        from PySide6.QtWidgets import QFileDialog, QMessageBox

        current = "\n".join(f"{d},{v:g}" for d, v in (self.settings.get("hashprice_forward_curve") or []))
        box = QMessageBox(self)
        box.setWindowTitle("Hashprice forward curve")
        box.setText("Paste the curve (one 'YYYY-MM-DD, $/PH/day' line per point) or import a CSV file. "
                    "Hashprice is interpolated between the points and held flat outside them.")
        paste = box.addButton("Paste\u2026", QMessageBox.ButtonRole.AcceptRole)
        load = box.addButton("Import CSV\u2026", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is paste:
            text, ok = QInputDialog.getMultiLineText(self, "Hashprice forward curve",
                                                     "date, $/PH/day (empty removes the curve):", current)
            if ok:
                self.set_forward_curve(text)
        elif box.clickedButton() is load:
            path, _ = QFileDialog.getOpenFileName(self, "Import hashprice forward curve", "", "CSV (*.csv *.txt)")
            if path:
                try:
                    with open(path, encoding="utf-8-sig") as fh:
                        self.set_forward_curve(fh.read())
                except OSError as e:
                    self._reject(f"{path}: cannot read the forward curve ({e.strerror or e})")

    def _on_save_scenario_clicked(self) -> None:
        name, ok = QInputDialog.getText(self, "Save scenario", "Name of the custom scenario:")
        if ok:
            self.save_scenario(name)

    # == weights =====================================================================================
    def profile_names(self) -> list[str]:
        """Built-in profiles then the custom ones."""
        return list(weights_profiles(self.settings))

    def active_profile(self) -> str:
        """Name of the active weights profile."""
        return weights_from_settings(self.settings)[0]

    def _profiles_with(self, name: str, weights: dict[str, float]) -> dict[str, Any]:
        profiles = copy.deepcopy(self.settings.get("weights_profiles") or {})
        profiles[name] = dict(weights)
        WeightsProfile.from_mapping(name, profiles[name])  # raises ReadinessError with the rule
        return profiles

    def set_weight(self, criterion: str, weight: float) -> bool:
        """Set one criterion weight of the active profile (one undo step, bursts merge)."""
        if self._updating:
            return False
        try:
            name, weights = weights_from_settings(self.settings)
            if weights.get(criterion) == weight:
                return False
            weights[criterion] = float(weight)
            profiles = self._profiles_with(name, weights)
        except ReadinessError as e:
            self._reject(str(e).splitlines()[0])
            return False
        label = next(c.label for c in CRITERIA if c.key == criterion)
        self._push(SetWeightCommand(self.portfolio, name, criterion, profiles,
                                    f"Set weight of {label} = {weight:g} ({name})"))
        return True

    def set_profile(self, name: str) -> bool:
        """Make ``name`` the active weights profile (one undo step)."""
        if name not in self.profile_names():
            self._reject(f"weights profile {name!r} does not exist. Choose one of: {', '.join(self.profile_names())}")
            return False
        if self.active_profile() == name:
            return False
        self._push(SetSettingCommand(self.portfolio, "weights_profile", name, text=f"Use weights profile {name}",
                                     merge=False))
        return True

    def new_profile(self, name: str) -> bool:
        """Copy the active profile to ``name`` and make it active (one undo step)."""
        name = name.strip()
        if not name:
            self._reject("profile name is empty. Enter a name")
            return False
        if name in self.profile_names():
            self._reject(f"weights profile {name!r} already exists. Choose another name")
            return False
        _active, weights = weights_from_settings(self.settings)
        profiles = self._profiles_with(name, weights)
        self._set_settings(f"New weights profile {name}", ("weights_profiles", profiles), ("weights_profile", name))
        return True

    def rename_profile(self, old: str, new: str) -> bool:
        """Rename custom profile ``old`` to ``new`` (one undo step); built-in profiles are refused."""
        new = new.strip()
        custom = copy.deepcopy(self.settings.get("weights_profiles") or {})
        if old in BUILTIN_WEIGHTS_PROFILES:
            self._reject(f"weights profile {old!r} is built in and keeps its name. Use New\u2026 to copy it")
            return False
        if old not in custom:
            self._reject(f"weights profile {old!r} does not exist")
            return False
        if not new or new in self.profile_names():
            self._reject(f"weights profile name {new!r} is empty or taken. Choose another name")
            return False
        renamed = {(new if k == old else k): v for k, v in custom.items()}
        # the active profile switches first, so the settings are valid at every step
        switch = ([("weights_profiles", {**custom, new: custom[old]}), ("weights_profile", new)]
                  if self.active_profile() == old else [])
        self._set_settings(f"Rename weights profile {old} to {new}", *switch, ("weights_profiles", renamed))
        return True

    def _set_settings(self, label: str, *changes: tuple[str, Any]) -> None:
        """Set portfolio settings ``(key, value)`` in order, as one undo step named ``label``."""
        stack = self.host.undo_stack
        stack.beginMacro(label)
        try:
            for key, value in changes:
                stack.push(SetSettingCommand(self.portfolio, key, value, merge=False))
        finally:
            stack.endMacro()

    def reset_weights(self) -> bool:
        """Give the active profile back its built-in weights (custom profiles: the default weights)."""
        name, weights = weights_from_settings(self.settings)
        target = dict(BUILTIN_WEIGHTS_PROFILES.get(name, DEFAULT_WEIGHTS))
        if weights == target:
            return False
        custom = copy.deepcopy(self.settings.get("weights_profiles") or {})
        if name in BUILTIN_WEIGHTS_PROFILES:
            custom.pop(name, None)
        else:
            custom[name] = target
        self._push(SetSettingCommand(self.portfolio, "weights_profiles", custom, text=f"Reset weights of {name}",
                                     merge=False))
        return True

    def _on_new_profile_clicked(self) -> None:
        name, ok = QInputDialog.getText(self, "New weights profile", "Name of the new profile:")
        if ok:
            self.new_profile(name)

    def _on_rename_profile_clicked(self) -> None:
        old = self.active_profile()
        name, ok = QInputDialog.getText(self, "Rename weights profile", f"New name for {old!r}:", text=old)
        if ok:
            self.rename_profile(old, name)

    # == widgets from settings ======================================================================
    def _on_session_settings_changed(self, _key: str) -> None:
        self.sync_from_settings()

    def sync_from_settings(self) -> None:
        """Show the settings in force in every widget (no commands are pushed meanwhile)."""
        self._updating = True
        try:
            try:
                a = assumptions_from_settings(self.settings)
            except PlannerError as e:
                self.message.setText(f"Assumptions invalid: {str(e).splitlines()[0]}")
                return
            over = self.overrides()
            for key, w in self.editors.items():
                spec = ASSUMPTIONS[key]
                value = a[key]
                if isinstance(w, QDoubleSpinBox):
                    w.setValue(float(value))
                elif isinstance(w, QSpinBox):
                    w.setValue(int(value))
                elif isinstance(w, QComboBox):
                    items = list(a.catalogue) if key == "asic_model" else list(spec.choices)
                    if [w.itemData(i) for i in range(w.count())] != items:
                        w.clear()
                        for item in items:
                            w.addItem(spec.choice_label(item) if spec.choices else item, item)
                    w.setCurrentIndex(w.findData(str(value)))
                elif isinstance(w, QLineEdit):
                    text = str(value)
                    if spec.kind == "datetime" and spec.unit == "date":
                        text = _dt.datetime.fromisoformat(text).date().isoformat()
                    w.setText(text)
                    w.setCursorPosition(0)  # a long date-time shows its start ("2024-04-20T..."), not its end
                f = QFont(self.name_labels[key].font())
                f.setBold(key in over)
                self.name_labels[key].setFont(f)
                self.reset_buttons[key].setEnabled(key in over)
            self.reset_all_button.setEnabled(bool(over))
            names = self.scenario_names()
            self.scenario_combo.clear()
            for n in names:
                self.scenario_combo.addItem(n if n in SCENARIOS else f"{n} (custom)", n)
            self.scenario_combo.setCurrentIndex(max(0, names.index(a.scenario) if a.scenario in names else 0))
            try:
                profile, weights = weights_from_settings(self.settings)
                profiles = self.profile_names()
            except PlannerError as e:
                self.message.setText(f"Weights invalid: {str(e).splitlines()[0]}")
                return
            self.profile_combo.clear()
            for n in profiles:
                self.profile_combo.addItem(n if n in BUILTIN_WEIGHTS_PROFILES else f"{n} (custom)", n)
            self.profile_combo.setCurrentIndex(profiles.index(profile))
            for key, spin in self.weight_spins.items():
                spin.setValue(float(weights[key]))
            total = sum(weights.values())
            self.weights_total.setText(f"Sum of weights {total:g}; each criterion counts weight / sum "
                                       "of the weights of criteria with data")
            self.rename_profile_button.setEnabled(profile not in BUILTIN_WEIGHTS_PROFILES)
        finally:
            self._updating = False
