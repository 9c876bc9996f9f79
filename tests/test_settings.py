"""AppSettings: TOML round trip, env-var location, migration, corrupt files never crash."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from planner.settings import (MAX_RECENT, SCHEMA_VERSION, AppSettings, SettingsWarning, config_dir, data_dir,
                              load_settings, migrate, save_settings, settings_path)


def test_env_vars_choose_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("PLANNER_DATA_DIR", str(tmp_path / "d"))
    assert config_dir() == tmp_path / "c" and data_dir() == tmp_path / "d"
    assert settings_path() == tmp_path / "c" / "settings.toml"


def test_missing_file_gives_defaults():
    s = load_settings()
    assert s == AppSettings() and s.autosave_interval_s == 60 and s.online_tiles is False
    assert s.btc_price_usd is None  # unknown, not 0


def test_round_trip_without_nulls_and_no_temp_files(tmp_path):
    s = AppSettings(online_tiles=True, autosave_interval_s=120, btc_price_mode="cached",
                    btc_price_cached_usd=97_000.0, btc_price_cached_at="2026-11-20T10:00:00+00:00")
    s.add_recent(tmp_path / "a.gpkg")
    path = save_settings(s)
    text = path.read_text()
    assert f"schema_version = {SCHEMA_VERSION}" in text and "btc_price_manual_usd" not in text
    assert load_settings() == s
    assert load_settings().btc_price_usd == 97_000.0
    assert [p.name for p in path.parent.iterdir()] == ["settings.toml"]


def test_recent_files_dedupe_and_cap(tmp_path):
    s = AppSettings()
    for i in range(MAX_RECENT + 3):
        s.add_recent(tmp_path / f"{i}.gpkg")
    s.add_recent(tmp_path / "5.gpkg")
    assert len(s.recent_files) == MAX_RECENT and Path(s.recent_files[0]).name == "5.gpkg"
    assert len(set(s.recent_files)) == MAX_RECENT
    s.remove_recent(tmp_path / "5.gpkg")
    assert s.last_project is None and all(not r.endswith("/5.gpkg") for r in s.recent_files)


def test_corrupt_toml_gives_defaults_and_a_warning():
    p = settings_path()
    p.parent.mkdir(parents=True)
    p.write_text("recent_files = [\n autosave = ")
    with pytest.warns(SettingsWarning, match="not valid TOML"):
        assert load_settings() == AppSettings()
    p.write_bytes(b"\xff\xfe\x00bad")
    with pytest.warns(SettingsWarning, match="cannot read"):
        assert load_settings() == AppSettings()


def test_wrong_types_fall_back_per_key():
    p = settings_path()
    p.parent.mkdir(parents=True)
    p.write_text('schema_version = 2\nautosave_interval_s = 2\nonline_tiles = "yes"\n'
                 'btc_price_mode = "manual"\nbtc_price_manual_usd = 65000\nfuture_key = 1\n')
    with pytest.warns(SettingsWarning) as rec:
        s = load_settings()
    msgs = " ".join(str(w.message) for w in rec)
    assert "autosave_interval_s" in msgs and "online_tiles" in msgs
    assert s.autosave_interval_s == 60 and s.online_tiles is False and s.btc_price_usd == 65000.0


def test_migration_from_version_1():
    raw = {"recent": ["/x/a.gpkg"], "autosave_minutes": 2, "btc_price_usd": 60000}
    out = migrate(raw)
    assert out == {"recent_files": ["/x/a.gpkg"], "autosave_interval_s": 120,
                   "btc_price_manual_usd": 60000, "schema_version": 2}
    p = settings_path()
    p.parent.mkdir(parents=True)
    p.write_text('recent = ["/x/a.gpkg"]\nautosave_minutes = 5\n')
    s = load_settings()
    assert s.recent_files == ["/x/a.gpkg"] and s.autosave_interval_s == 300 and s.schema_version == SCHEMA_VERSION


def test_newer_schema_warns_but_loads_known_keys():
    p = settings_path()
    p.parent.mkdir(parents=True)
    p.write_text("schema_version = 99\nonline_tiles = true\nnew_thing = 3\n")
    with pytest.warns(SettingsWarning, match="newer"):
        s = load_settings()
    assert s.online_tiles is True


def test_settings_module_is_qt_free():
    import subprocess
    import sys
    code = "import sys; sys.modules['PySide6'] = None; import planner.settings"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})
