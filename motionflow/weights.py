"""Pretrained weights, read only from a local weights root, never downloaded at run time.

Each file or model folder is a WeightSpec: its path under the root, SHA-256 and size (for single
files), the original source, and what uses it. The root is `$MFBENCH_WEIGHTS`, else
`~/.cache/mfbench/weights`. A missing file raises MissingWeightsError naming the file, its source
and the exact place to put it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from motionflow.errors import MissingWeightsError, MotionFlowError
from motionflow.utils.io import sha256_file

WEIGHTS_ENV = "MFBENCH_WEIGHTS"
DEFAULT_WEIGHTS_ROOT = Path("~/.cache/mfbench/weights")


class WeightsChecksumError(MotionFlowError, ValueError):
    """A weight file is present but its size or SHA-256 differs from the registered one."""


@dataclass(frozen=True)
class WeightSpec:
    """One pretrained file (or a model folder in a standard format, where sha256 is None)."""

    name: str
    relative_path: str
    source: str
    used_by: str
    sha256: str | None = None
    size_bytes: int | None = None
    license: str = ""

    @property
    def is_folder(self) -> bool:
        return self.sha256 is None and "." not in Path(self.relative_path).name


_REGISTRY: dict[str, WeightSpec] = {}


def register_weights(spec: WeightSpec) -> WeightSpec:
    existing = _REGISTRY.get(spec.name)
    if existing is not None and existing != spec:
        raise ValueError(f"weights {spec.name!r} registered twice with different specs")
    _REGISTRY[spec.name] = spec
    return spec


def registered_weights() -> list[WeightSpec]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def weight_spec(name: str) -> WeightSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown weights {name!r}; known: {', '.join(sorted(_REGISTRY)) or 'none'}") from None


def weights_root(root: str | Path | None = None) -> Path:
    """The weights root: the argument, else $MFBENCH_WEIGHTS, else ~/.cache/mfbench/weights."""
    if root is None:
        root = os.environ.get(WEIGHTS_ENV) or DEFAULT_WEIGHTS_ROOT
    return Path(root).expanduser()


def expected_path(name: str, root: str | Path | None = None) -> Path:
    return weights_root(root) / weight_spec(name).relative_path


def missing_message(spec: WeightSpec, path: Path) -> str:
    return (
        f"weights {spec.name!r} not found: expected {path} "
        f"(used by {spec.used_by}; source: {spec.source}). "
        f"Put the file there, or set ${WEIGHTS_ENV} to the folder that holds {spec.relative_path}. "
        "See `mfbench weights where`."
    )


def weights_path(name: str, root: str | Path | None = None, verify: bool = True) -> Path:
    """Local path of registered weights; raises MissingWeightsError if absent and
    WeightsChecksumError if a single file's size or SHA-256 does not match."""
    spec = weight_spec(name)
    path = expected_path(name, root)
    if not path.exists():
        raise MissingWeightsError(missing_message(spec, path))
    if verify and path.is_file():
        verify_file(spec, path)
    return path


def verify_file(spec: WeightSpec, path: Path) -> None:
    if spec.size_bytes is not None and path.stat().st_size != spec.size_bytes:
        raise WeightsChecksumError(
            f"{path}: size {path.stat().st_size} bytes, expected {spec.size_bytes} for {spec.name!r} "
            f"(source: {spec.source})"
        )
    if spec.sha256 is not None:
        digest = sha256_file(path)
        if digest != spec.sha256:
            raise WeightsChecksumError(
                f"{path}: SHA-256 {digest} does not match {spec.sha256} for {spec.name!r} (source: {spec.source})"
            )
