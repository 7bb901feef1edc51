"""Where the external pose estimators live on this machine: environment variables and a settings file.

Each setting has a key `<estimator>.<name>`. Its value is, in order:
1. the environment variable `MFBENCH_<ESTIMATOR>_<NAME>` (e.g. `MFBENCH_DUST3R_CHECKPOINT`);
2. the settings file: `$MFBENCH_SFM_SETTINGS`, else `~/.config/mfbench/sfm.toml` (or `sfm.json`),
   a table per estimator:

       [dust3r]
       checkpoint = "/models/DUSt3R_ViTLarge_BaseDecoder_512_dpt.pth"
       [vggsfm]
       python = "/opt/conda/envs/vggsfm/bin/python"
       dir = "/src/vggsfm"
       checkpoint = "/models/vggsfm_v2_0_0.bin"

Known keys (and what they point at):

| key | environment variable | meaning |
| --- | --- | --- |
| dust3r.checkpoint | MFBENCH_DUST3R_CHECKPOINT | DUSt3R .pth checkpoint, or a model folder (config.json + weights) |
| dust3r.dir | MFBENCH_DUST3R_DIR | a checkout of github.com/naver/dust3r (else the installed `dust3r` or `mini_dust3r` package) |
| vggsfm.python | MFBENCH_VGGSFM_PYTHON | python executable of the VGGSfM environment |
| vggsfm.dir | MFBENCH_VGGSFM_DIR | checkout of github.com/facebookresearch/vggsfm (holds demo.py) |
| vggsfm.checkpoint | MFBENCH_VGGSFM_CHECKPOINT | vggsfm_v2_0_0.bin |
| particlesfm.python | MFBENCH_PARTICLESFM_PYTHON | python executable of the ParticleSfM environment |
| particlesfm.dir | MFBENCH_PARTICLESFM_DIR | checkout of github.com/bytedance/particle-sfm (holds run_particlesfm.py) |
| vggt.checkpoint | MFBENCH_VGGT_CHECKPOINT | VGGT-1B model.pt, or a model folder |
| vggt.dir | MFBENCH_VGGT_DIR | a checkout of github.com/facebookresearch/vggt (else the installed `vggt` package) |
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from motionflow.errors import MotionFlowError

SETTINGS_FILE_ENV = "MFBENCH_SFM_SETTINGS"
DEFAULT_SETTINGS_DIR = Path("~/.config/mfbench")


class SettingsFileError(MotionFlowError, ValueError):
    """The estimator settings file exists but cannot be parsed."""


def environment_variable(estimator: str, name: str) -> str:
    return f"MFBENCH_{estimator.upper()}_{name.upper()}"


def describe_setting(estimator: str, name: str) -> str:
    """How a user sets `estimator.name`: for error messages."""
    return (
        f"${environment_variable(estimator, name)} or `{name} = ...` under [{estimator}] in "
        f"{settings_file_path() or DEFAULT_SETTINGS_DIR.expanduser() / 'sfm.toml'}"
    )


def settings_file_path() -> Path | None:
    """The settings file in use: $MFBENCH_SFM_SETTINGS, else the first of ~/.config/mfbench/sfm.{toml,json}."""
    explicit = os.environ.get(SETTINGS_FILE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    for name in ("sfm.toml", "sfm.json"):
        candidate = DEFAULT_SETTINGS_DIR.expanduser() / name
        if candidate.is_file():
            return candidate
    return None


def load_settings_file(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The tables of the settings file ({} when there is none)."""
    path = settings_file_path() if path is None else path
    if path is None:
        return {}
    if not path.is_file():
        raise SettingsFileError(f"{path}: settings file not found (named by ${SETTINGS_FILE_ENV})")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            tables = json.loads(text)
        else:
            import tomllib

            tables = tomllib.loads(text)
    except (ValueError, ImportError) as error:
        raise SettingsFileError(f"{path}: cannot parse estimator settings ({error})") from None
    if not isinstance(tables, dict) or not all(isinstance(value, dict) for value in tables.values()):
        raise SettingsFileError(f"{path}: expected one table per estimator, e.g. [dust3r]")
    return tables


def external_setting(estimator: str, name: str) -> str | None:
    """The value of `estimator.name` from the environment, else the settings file, else None."""
    value = os.environ.get(environment_variable(estimator, name))
    if value:
        return value
    table = load_settings_file().get(estimator, {})
    found = table.get(name)
    return None if found in (None, "") else str(found)


def external_path(estimator: str, name: str) -> Path | None:
    value = external_setting(estimator, name)
    return None if value is None else Path(value).expanduser()
