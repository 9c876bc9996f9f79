"""Tools > Screen region…: find candidate cells for new sites and add them to the portfolio.

The dialog collects the region, cell size, exclusion layers, top N, the minimum spacing between
candidates (follows the cell size, ``max(10 km, 5 cells)``, until edited; 0 = "Off") and the
stranded-energy weight, runs :func:`planner.gis.screening.screen` off the GUI thread through the window's
``run_task`` (progress dialog with Cancel; a Python worker thread whose result comes back by
signal, see ``planner.ui.workers``) and lists the candidates. "Add as site" pushes an ``AddSiteCommand`` (undoable) with the
candidate's computed fields and an ID like ``CAND-TX-001``; "Add map layer" adds, as one undo
step (one :class:`planner.session.commands.AddLayers`), a heat layer of the scored cells coloured by score
(``screening_tx_score``, drawn by the web map's graduated ``color_by`` style) and the top-N
candidates as an ``other`` point layer on top of it (``screening_tx``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import shapely
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QListWidget,
    QListWidgetItem, QMessageBox, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from planner.gis.project import MapLayer, default_style, safe_layer_name
from planner.gis.screening import (
    DEFAULT_STRANDED_WEIGHT, MAX_SPACING_KM, Candidate, ScreeningResult, candidate_site, default_min_spacing_km,
    screen, state_codes,
)
from planner.model.site import PlannerError
from planner.session.commands import AddLayers
from planner.ui.commands import AddSiteCommand, QtCommand
from planner.ui.input_guard import guard_wheel_in
from planner.ui.workers import Task, TaskCancelled, TaskRunner

_POLYGON_KINDS = ("stranded", "basins", "countries", "states", "other")
#: Heat layer style: score classes on the viridis ramp (bright = high score), cells as squares.
HEAT_CLASSES = 6
#: Candidates on the heat layer: magenta dots with a white ring stand out on every viridis class;
#: ``on_top`` draws them above the substations and PoPs too.
CANDIDATE_STYLE = {"color": "#ffffff", "fill_color": "#e7298a", "fill_opacity": 1.0, "weight": 1.5, "radius": 6,
                   "on_top": True}
_HEAT_COLUMNS = ["cell_id", "score", "score_min", "score_max", "score_exact"]


class ScreeningDialog(QDialog):
    """Screen a region and turn candidates into sites or a map layer (one undo step each)."""

    def __init__(self, window: Any, parent: QWidget | None = None):
        super().__init__(parent if parent is not None else (window if isinstance(window, QWidget) else None))
        self.window_ = window
        self.result: ScreeningResult | None = None
        self._runner: TaskRunner | None = None  # when the window offers no run_task (standalone)
        self.setWindowTitle("Screen region")
        self.setObjectName("ScreeningDialog")
        self._build_ui()
        self._connect()
        self.refresh_inputs()

    # -- construction -------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.region_combo = QComboBox()
        self.region_combo.setEditable(True)
        self.region_combo.setToolTip("State code, CONUS, or a bbox minlon,minlat,maxlon,maxlat")
        self.cell_spin = QDoubleSpinBox()
        self.cell_spin.setRange(0.5, 500.0)
        self.cell_spin.setDecimals(1)
        self.cell_spin.setValue(5.0)
        self.cell_spin.setSuffix(" km")
        self.top_spin = QSpinBox()
        self.top_spin.setRange(1, 1000)
        self.top_spin.setValue(50)
        self.spacing_spin = QDoubleSpinBox()
        self.spacing_spin.setRange(0.0, MAX_SPACING_KM)
        self.spacing_spin.setDecimals(1)
        self.spacing_spin.setSuffix(" km")
        self.spacing_spin.setSpecialValueText("Off")
        self.spacing_spin.setValue(default_min_spacing_km(self.cell_spin.value()))
        self.spacing_spin.setToolTip("Candidates are at least this far apart, so they are distinct places "
                                     "(default: 10 km or 5 cells, whichever is more). Off lists neighbouring "
                                     "cells of one hot spot.")
        self._spacing_follows_cells = True
        self.stranded_spin = QDoubleSpinBox()
        self.stranded_spin.setRange(0.0, 100.0)
        self.stranded_spin.setValue(DEFAULT_STRANDED_WEIGHT)
        self.stranded_spin.setToolTip("Weight of stranded energy (grid and fibre weights come from the "
                                      "active readiness weights profile)")
        self.exclusion_list = QListWidget()
        self.exclusion_list.setMaximumHeight(110)
        self.exclusion_list.setToolTip("Tick polygon layers whose cells must be excluded")
        self.engine_combo = QComboBox()
        self.engine_combo.addItem("This computer (geopandas)", "local")
        self.engine_combo.addItem("Dask cluster (local, in-process)", "dask")
        form = QFormLayout()
        form.addRow("Region", self.region_combo)
        form.addRow("Cell size", self.cell_spin)
        form.addRow("Top candidates", self.top_spin)
        form.addRow("Minimum spacing", self.spacing_spin)
        form.addRow("Stranded-energy weight", self.stranded_spin)
        form.addRow("Exclusion layers", self.exclusion_list)
        form.addRow("Engine", self.engine_combo)
        self.run_button = QPushButton("Screen")
        self.run_button.setDefault(True)
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.candidate_list = QListWidget()
        self.candidate_list.setObjectName("candidates")
        self.add_site_button = QPushButton("Add as site")
        self.add_layer_button = QPushButton("Add map layer")
        self.add_site_button.setEnabled(False)
        self.add_layer_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addStretch(1)
        buttons.addWidget(self.add_site_button)
        buttons.addWidget(self.add_layer_button)
        self.close_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.candidate_list, 1)
        layout.addWidget(self.close_box)
        guard_wheel_in(self)
        self.resize(760, 620)

    def _connect(self) -> None:
        self.cell_spin.valueChanged.connect(self._on_cell_spin_value_changed)
        self.spacing_spin.valueChanged.connect(self._on_spacing_spin_value_changed)
        self.run_button.clicked.connect(self._on_run_clicked)
        self.add_site_button.clicked.connect(self._on_add_site_clicked)
        self.add_layer_button.clicked.connect(self._on_add_layer_clicked)
        self.candidate_list.currentRowChanged.connect(self._on_candidate_list_current_row_changed)
        self.candidate_list.itemDoubleClicked.connect(lambda _item: self._on_add_site_clicked())
        self.close_box.rejected.connect(self.reject)

    # -- inputs ------------------------------------------------------------------------------
    def refresh_inputs(self) -> None:
        """Fill region choices and exclusion layers from the window's current project."""
        project = self.window_.project
        current = self.region_combo.currentText() or "TX"
        self.region_combo.clear()
        codes = state_codes(project)
        self.region_combo.addItems(codes + ["CONUS"])
        self.region_combo.setCurrentText(current if current in codes or "," in current else
                                         ("TX" if "TX" in codes else current))
        self.exclusion_list.clear()
        for name, layer in project.layers.items():
            if layer.kind not in _POLYGON_KINDS or layer.kind == "states":
                continue
            item = QListWidgetItem(f"{layer.title or name} ({layer.kind})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.exclusion_list.addItem(item)

    def exclusions(self) -> list[str]:
        """Names of the ticked exclusion layers."""
        out = []
        for i in range(self.exclusion_list.count()):
            item = self.exclusion_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def set_exclusions(self, names: list[str]) -> None:
        """Tick exactly the layers in ``names``."""
        for i in range(self.exclusion_list.count()):
            item = self.exclusion_list.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in names
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    # -- running ----------------------------------------------------------------------------
    def run_screening(self) -> Task | None:
        """Screen with the current inputs on a worker (progress, Cancel); :meth:`set_result` shows it.

        Returns the task; its result arrives later by signal.
        """
        region = self.region_combo.currentText().strip()
        kwargs = dict(top=self.top_spin.value(), exclusions=self.exclusions(),
                      min_spacing_km=self.spacing_spin.value(),
                      weights={"stranded_energy": self.stranded_spin.value()},
                      engine=self.engine_combo.currentData())
        runner = getattr(self.window_, "run_task", None)
        if runner is None:
            self._runner = self._runner or TaskRunner(self)
            runner = self._runner.start
        task: Task | None = runner(f"Screening {region} at {self.cell_spin.value():g} km", screen,
                                   self.window_.project, region, self.cell_spin.value(),
                                   on_done=self.set_result, on_error=self._on_screening_failed, **kwargs)
        return task

    def _on_screening_failed(self, e: BaseException) -> None:
        if isinstance(e, TaskCancelled):
            self.summary_label.setText("Screening cancelled; nothing was changed.")
        elif isinstance(e, PlannerError):
            self.summary_label.setText("")
            QMessageBox.warning(self, "Screening failed", str(e).splitlines()[0])
        else:
            raise e

    def set_result(self, result: ScreeningResult) -> None:
        """Show ``result``: summary line and one list row per candidate."""
        self.result = result
        t = result.timing_s.get("total", 0.0)
        text = (f"{result.region.label}: {result.n_cells:,} cells of {result.cell_km:g} km, "
                f"{result.n_excluded:,} excluded, {result.n_refined:,} refined exactly, candidates "
                + (f"at least {result.min_spacing_km:g} km apart" if result.min_spacing_km > 0 else "not spaced")
                + f", {t:.1f} s.")
        if result.notes:
            text += " " + " ".join(result.notes)
        self.summary_label.setText(text)
        self.candidate_list.clear()
        for c in result.top:
            item = QListWidgetItem(f"{c.rank}. {c.cell_id} ({c.lat:.3f}, {c.lon:.3f}) {c.reason}")
            item.setToolTip(c.reason)
            self.candidate_list.addItem(item)
        if result.top:
            self.candidate_list.setCurrentRow(0)
        self.add_layer_button.setEnabled(bool(result.top))

    def current_candidate(self) -> Candidate | None:
        """The candidate selected in the list, if any."""
        row = self.candidate_list.currentRow()
        if self.result is None or not 0 <= row < len(self.result.top):
            return None
        return self.result.top[row]

    def add_candidate_as_site(self, candidate: Candidate) -> str:
        """Add ``candidate`` as a new pipeline site (one undo step); returns its site_id."""
        portfolio = self.window_.project.portfolio
        sid = portfolio.unique_id(f"CAND-{candidate.region}-{candidate.rank:03d}")
        site = candidate_site(candidate, sid)
        self.window_.undo_stack.push(AddSiteCommand(portfolio, site, text=f"Add screening candidate {sid}"))
        if hasattr(self.window_, "set_current_site"):
            self.window_.set_current_site(sid)
        return sid

    def candidates_layer(self, taken: Any = ()) -> MapLayer:
        """The top-N candidates of the current result as an ``other`` point layer (not added)."""
        r = self._require_result()
        name = safe_layer_name(f"screening_{r.region.code}", taken)
        return MapLayer(name=name, kind="other",
                        title=f"Screening {r.region.label} {r.cell_km:g} km (top {len(r.top)} candidates)",
                        gdf=r.top_frame(), source="planner screening",
                        style={**default_style("other"), **CANDIDATE_STYLE})

    def heat_layer(self, taken: Any = ()) -> MapLayer:
        """The scored (non-excluded) cells as an ``other`` point layer coloured by score (not added)."""
        r = self._require_result()
        cells = r.cells
        keep = ~cells["excluded"].astype(bool) & cells["score"].notna()
        cols = [c for c in _HEAT_COLUMNS if c in cells.columns]
        # cell centres as points (the style's cell_km draws them as squares): a 2 km Texas grid
        # stays light in the project file and on the map
        sel = cells.loc[keep]
        gdf = gpd.GeoDataFrame(sel[cols].reset_index(drop=True),
                               geometry=shapely.points(sel["lon"].to_numpy(float), sel["lat"].to_numpy(float)),
                               crs="EPSG:4326")
        name = safe_layer_name(f"screening_{r.region.code}_score", taken)
        style = {**default_style("other"), "color_by": "score", "ramp": "viridis", "classes": HEAT_CLASSES,
                 "breaks": "quantile", "unit": "of 100", "cell_km": float(r.cell_km), "fill_opacity": 0.8}
        return MapLayer(name=name, kind="other", title=f"Screening {r.region.label} {r.cell_km:g} km (score)",
                        gdf=gdf, source="planner screening", style=style)

    def _notify(self) -> Callable[[str], None] | None:
        """The window session's layer hook (a changed layer may need proximity again)."""
        session = getattr(self.window_, "session", None)
        return session.notify_layers_changed if session is not None else None

    def _require_result(self) -> ScreeningResult:
        if self.result is None:
            raise PlannerError("screening: no result yet; run Screen first")
        return self.result

    def add_candidates_layer(self) -> str:
        """Add the candidates as an ``other`` point layer (one undo step); returns the layer name."""
        if self.result is None or not self.result.top:
            return ""
        project = self.window_.project
        layer = self.candidates_layer(project.layers)
        self.window_.undo_stack.push(QtCommand(AddLayers(project, [layer], self._notify())))
        return layer.name

    def add_map_layers(self) -> tuple[str, str]:
        """Add the score heat layer and the candidates above it as one undo step; returns both names."""
        if self.result is None or not self.result.top:
            return "", ""
        project = self.window_.project
        heat = self.heat_layer(project.layers)
        cands = self.candidates_layer(set(project.layers) | {heat.name})
        self.window_.undo_stack.push(QtCommand(AddLayers(project, [heat, cands], self._notify(),
                                                         f"Add screening layers {heat.title}")))
        return heat.name, cands.name

    # -- handlers ---------------------------------------------------------------------------
    def _on_run_clicked(self) -> None:
        self.run_screening()

    def _on_cell_spin_value_changed(self, value: float) -> None:
        if self._spacing_follows_cells:
            self.spacing_spin.blockSignals(True)
            self.spacing_spin.setValue(default_min_spacing_km(value))
            self.spacing_spin.blockSignals(False)

    def _on_spacing_spin_value_changed(self, _value: float) -> None:
        self._spacing_follows_cells = False  # the analyst chose a spacing: keep it

    def _on_candidate_list_current_row_changed(self, row: int) -> None:
        self.add_site_button.setEnabled(self.current_candidate() is not None)

    def _on_add_site_clicked(self) -> None:
        c = self.current_candidate()
        if c is None:
            return
        try:
            sid = self.add_candidate_as_site(c)
        except PlannerError as e:
            QMessageBox.warning(self, "Cannot add site", str(e).splitlines()[0])
            return
        self.summary_label.setText(f"Added {sid} (candidate #{c.rank}); Edit > Undo removes it.")

    def _on_add_layer_clicked(self) -> None:
        heat, cands = self.add_map_layers()
        if heat:
            self.summary_label.setText(f"Added map layers {heat} (score) and {cands} (candidates); "
                                       "Edit > Undo removes both.")


from planner.ui.screening_action import install_screening_action  # noqa: E402,F401  (its home until it moved)
