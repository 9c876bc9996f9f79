"""Application preferences: a Qt-free dataclass saved as TOML in the user config folder.

Window geometry and dock layout are *not* here (Qt keeps those in QSettings); this file
holds what the analyst chooses: recent files, autosave interval, online tiles, BTC price.
``PLANNER_CONFIG_DIR`` / ``PLANNER_DATA_DIR`` override the platformdirs folders (tests use them).
"""
from __future__ import annotations

import os
import sys
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import platformdirs
import tomli_w

from planner.fileio import atomic_write

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCHEMA_VERSION = 2
SETTINGS_FILE = "settings.toml"
MAX_RECENT = 10
MIN_AUTOSAVE_INTERVAL_S = 10
MAX_AUTOSAVE_INTERVAL_S = 3600

BtcPriceMode = Literal["manual", "cached"]


class SettingsWarning(UserWarning):
    """The settings file could not be used as-is (defaults were used instead)."""


def config_dir() -> Path:
    """Folder of the settings file (``PLANNER_CONFIG_DIR`` or the platform config dir)."""
    env = os.environ.get("PLANNER_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir("planner"))


def data_dir() -> Path:
    """Folder for autosave/recovery copies (``PLANNER_DATA_DIR`` or the platform data dir)."""
    env = os.environ.get("PLANNER_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir("planner"))


def cache_dir() -> Path:
    """Folder for caches that may be deleted at any time (``PLANNER_CACHE_DIR`` or the platform cache dir)."""
    env = os.environ.get("PLANNER_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("planner"))


def settings_path() -> Path:
    """Full path of the TOML settings file."""
    return config_dir() / SETTINGS_FILE


@dataclass
class AppSettings:
    """The analyst's application preferences (``None`` = not set)."""

    recent_files: list[str] = field(default_factory=list)
    last_project: str | None = None
    autosave_interval_s: int = 60
    online_tiles: bool = False
    btc_price_mode: BtcPriceMode = "manual"
    btc_price_manual_usd: float | None = None
    btc_price_cached_usd: float | None = None
    btc_price_cached_at: str | None = None
    schema_version: int = SCHEMA_VERSION

    def add_recent(self, path: str | os.PathLike[str]) -> None:
        """Put ``path`` first in the recent list (deduplicated, at most ``MAX_RECENT``)."""
        p = str(Path(path).resolve())
        self.recent_files = [p] + [r for r in self.recent_files if r != p][: MAX_RECENT - 1]
        self.last_project = p

    def remove_recent(self, path: str | os.PathLike[str]) -> None:
        """Forget ``path`` (e.g. the file no longer exists)."""
        p = str(Path(path).resolve())
        self.recent_files = [r for r in self.recent_files if r != p]
        if self.last_project == p:
            self.last_project = None

    @property
    def btc_price_usd(self) -> float | None:
        """The BTC price to use according to the chosen mode (``None`` = unknown)."""
        if self.btc_price_mode == "cached":
            return self.btc_price_cached_usd
        return self.btc_price_manual_usd


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Upgrade a settings mapping read from disk to :data:`SCHEMA_VERSION`.

    Version 1 (no ``schema_version`` key) used ``recent`` for the recent files,
    ``autosave_minutes`` for the interval and ``btc_price_usd`` for the manual price.
    """
    data = dict(raw)
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version < 1:
        version = 1
    if version == 1:
        if "recent" in data and "recent_files" not in data:
            data["recent_files"] = data.pop("recent")
        if "autosave_minutes" in data and "autosave_interval_s" not in data:
            minutes = data.pop("autosave_minutes")
            if isinstance(minutes, (int, float)) and not isinstance(minutes, bool):
                data["autosave_interval_s"] = int(round(minutes * 60))
        if "btc_price_usd" in data and "btc_price_manual_usd" not in data:
            data["btc_price_manual_usd"] = data.pop("btc_price_usd")
        version = 2
    data["schema_version"] = version
    return data


def _clean(data: dict[str, Any], source: Path | None) -> AppSettings:
    """Build settings from a migrated mapping, dropping (with a warning) values of the wrong type."""
    known = {f.name for f in fields(AppSettings)}
    out = AppSettings()
    where = f"{source}: " if source else ""

    def bad(key: str, rule: str) -> None:
        warnings.warn(f"{where}setting {key!r} {rule}; using the default. Fix or delete the file",
                      SettingsWarning, stacklevel=3)

    for key, value in data.items():
        if key not in known:
            continue  # newer or foreign keys are ignored, not fatal
        if key == "recent_files":
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                out.recent_files = list(dict.fromkeys(value))[:MAX_RECENT]
            else:
                bad(key, "must be a list of paths")
        elif key in ("last_project", "btc_price_cached_at"):
            if isinstance(value, str):
                setattr(out, key, value)
            else:
                bad(key, "must be text")
        elif key == "autosave_interval_s":
            if isinstance(value, int) and not isinstance(value, bool) \
                    and MIN_AUTOSAVE_INTERVAL_S <= value <= MAX_AUTOSAVE_INTERVAL_S:
                out.autosave_interval_s = value
            else:
                bad(key, f"must be a whole number of seconds between {MIN_AUTOSAVE_INTERVAL_S} "
                         f"and {MAX_AUTOSAVE_INTERVAL_S}")
        elif key == "online_tiles":
            if isinstance(value, bool):
                out.online_tiles = value
            else:
                bad(key, "must be true or false")
        elif key == "btc_price_mode":
            if value in ("manual", "cached"):
                out.btc_price_mode = value
            else:
                bad(key, "must be 'manual' or 'cached'")
        elif key in ("btc_price_manual_usd", "btc_price_cached_usd"):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                setattr(out, key, float(value))
            else:
                bad(key, "must be a positive number of USD")
    out.schema_version = SCHEMA_VERSION
    return out


def load_settings(path: Path | None = None) -> AppSettings:
    """Read the settings; a missing file gives defaults, a corrupt one defaults plus a warning."""
    path = path or settings_path()
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return AppSettings()
    except (OSError, UnicodeDecodeError) as e:
        warnings.warn(f"{path}: cannot read settings ({e}); using defaults. Fix or delete the file",
                      SettingsWarning, stacklevel=2)
        return AppSettings()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        warnings.warn(f"{path}: settings are not valid TOML ({e}); using defaults. Fix or delete the file",
                      SettingsWarning, stacklevel=2)
        return AppSettings()
    version = raw.get("schema_version", 1)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        warnings.warn(f"{path}: settings schema_version {version} is newer than this planner "
                      f"({SCHEMA_VERSION}); unknown keys are ignored", SettingsWarning, stacklevel=2)
    return _clean(migrate(raw), path)


def save_settings(settings: AppSettings, path: Path | None = None) -> Path:
    """Write the settings atomically (:func:`planner.fileio.atomic_write`); returns the path written."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {k: v for k, v in asdict(settings).items() if v is not None}  # TOML has no null
    data["schema_version"] = SCHEMA_VERSION
    atomic_write(path, tomli_w.dumps(data))
    return path
