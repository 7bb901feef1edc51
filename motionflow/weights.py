"""Pretrained weights, read only from a local weights root, never downloaded at run time.

Each file or model folder is a WeightSpec: its path under the root, SHA-256 and size (for single
files; or only the SHA-256 prefix that torch hub file names carry, e.g. `alexnet-owt-7be5be79.pth`),
the original source, and what uses it. The root is `$MFBENCH_WEIGHTS`, else
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


class WeightsFormatError(MotionFlowError, ValueError):
    """A weight file is present but is not what its loader expects (unreadable, wrong architecture)."""


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
    sha256_prefix: str | None = None

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
    expected = spec.sha256 or spec.sha256_prefix
    if expected is not None:
        digest = sha256_file(path)
        if not digest.startswith(expected):
            raise WeightsChecksumError(
                f"{path}: SHA-256 {digest} does not match {expected} for {spec.name!r} (source: {spec.source})"
            )


def has_checksum(spec: WeightSpec) -> bool:
    """Whether verification can compare anything (size, SHA-256 or its prefix) for this spec."""
    return spec.sha256 is not None or spec.sha256_prefix is not None or spec.size_bytes is not None


@dataclass(frozen=True)
class WeightsCheck:
    """State of one registered file under a root: present or not, and what verification found."""

    spec: WeightSpec
    path: Path
    present: bool
    verified: bool = False
    problem: str | None = None


def check_weights(root: str | Path | None = None, verify: bool = True) -> list[WeightsCheck]:
    """Checks every registered spec under the root. Missing files are reported, not raised; with
    `verify`, present single files with a size or checksum are hashed (slow for large files)."""
    checks = []
    for spec in registered_weights():
        path = weights_root(root) / spec.relative_path
        if not path.exists():
            checks.append(WeightsCheck(spec, path, present=False))
            continue
        if not (verify and path.is_file() and has_checksum(spec)):
            checks.append(WeightsCheck(spec, path, present=True))
            continue
        try:
            verify_file(spec, path)
        except WeightsChecksumError as error:
            checks.append(WeightsCheck(spec, path, present=True, verified=True, problem=str(error)))
        else:
            checks.append(WeightsCheck(spec, path, present=True, verified=True))
    return checks
