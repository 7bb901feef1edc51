"""Estimators whose code or weights live outside this project: finding their configured python
environment, checkout and checkpoint, and running one that lives in its own environment (VGGSfM,
ParticleSfM) as a subprocess."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.sfm_adapters.base import unavailable
from bench.sfm_adapters.settings import describe_setting

LOG_TAIL_LINES = 15


def require_python(estimator: str, python: str | None, source: str) -> Path:
    """The configured python executable of the estimator's environment, or EstimatorUnavailableError."""
    setting = describe_setting(estimator, "python")
    if python is None:
        raise unavailable(estimator, "no python executable of its environment is configured", source, setting)
    path = Path(python).expanduser()
    if not path.is_file():
        raise unavailable(estimator, f"python executable {path} does not exist", source, setting)
    return path


def require_checkout(estimator: str, directory: str | None, entry_point: str, source: str) -> Path:
    """The configured checkout folder holding `entry_point`, or EstimatorUnavailableError."""
    setting = describe_setting(estimator, "dir")
    if directory is None:
        raise unavailable(estimator, "no checkout folder is configured", source, setting)
    path = Path(directory).expanduser()
    if not (path / entry_point).is_file():
        raise unavailable(estimator, f"{path} has no {entry_point}", source, setting)
    return path


def require_checkpoint(estimator: str, checkpoint: str | None, source: str, folder_ok: bool = True) -> Path:
    """The configured checkpoint (a file, or also a folder where `folder_ok`), or EstimatorUnavailableError."""
    setting = describe_setting(estimator, "checkpoint")
    if checkpoint is None:
        raise unavailable(estimator, "no checkpoint configured", source, setting)
    path = Path(checkpoint).expanduser()
    if not (path.exists() if folder_ok else path.is_file()):
        raise unavailable(estimator, f"checkpoint {checkpoint} does not exist", source, setting)
    return path


def auto_device(setting: str) -> str:
    """A `device` setting as a torch device name: "auto" is CUDA when available, else CPU."""
    import torch

    if setting != "auto":
        return setting
    return "cuda" if torch.cuda.is_available() else "cpu"


def run_tool(command: list[str], cwd: Path, log_path: Path, timeout_s: float) -> str | None:
    """Runs `command` in `cwd`, its output going to `log_path`; returns None on success, else why it failed
    (exit code or timeout, with the last lines of its output)."""
    with open(log_path, "wb") as log:
        try:
            completed = subprocess.run(
                command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s
            )
        except subprocess.TimeoutExpired:
            return f"{Path(command[1]).name} timed out after {timeout_s:g} s; {_tail(log_path)}"
        except OSError as error:
            return f"cannot start {command[0]}: {error}"
    if completed.returncode != 0:
        return f"{Path(command[1]).name} exited with code {completed.returncode}; {_tail(log_path)}"
    return None


def _tail(log_path: Path) -> str:
    lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return (
        "last output: " + " | ".join(line.strip() for line in lines[-LOG_TAIL_LINES:])
        if lines
        else "no output"
    )
