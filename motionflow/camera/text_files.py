"""Reading camera files (text, JSON, arrays of numbers) with errors that say why a file cannot be used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from motionflow.errors import CameraFileError


def read_text_file(path: str | Path) -> str:
    """The UTF-8 text of a camera file; CameraFileError when it is missing or binary."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CameraFileError(path, f"cannot read file ({error.strerror or error})") from None
    if b"\x00" in data:
        raise CameraFileError(path, "binary file (contains NUL bytes), expected text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CameraFileError(path, f"binary file (not UTF-8 at byte {error.start}), expected text") from None


def read_json_file(path: str | Path) -> dict:
    """The top-level JSON object of a camera file; CameraFileError (with the line) when it is not one."""
    text = read_text_file(path)
    if not text.strip():
        raise CameraFileError(path, "file is empty")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise CameraFileError(
            path, f"invalid JSON: {error.msg} (column {error.colno})", error.lineno
        ) from None
    if not isinstance(payload, dict):
        raise CameraFileError(
            path, f"expected a JSON object at the top level, found {type(payload).__name__}"
        )
    return payload


def numeric_array(
    value: object, shape: tuple[int | None, ...], what: str, path: str | Path | None
) -> np.ndarray:
    """`value` as a float64 array of `shape` (None matches any length); CameraFileError naming `what`."""
    dims = ", ".join("F" if size is None else str(size) for size in shape)
    expected = f"a [{dims}] array of numbers" if shape else "a number"
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nesting
        array = None
    if array is None or array.dtype.kind not in "iuf":
        raise CameraFileError(path, f"{what} is not {expected}")
    array = array.astype(np.float64)
    if array.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(array.shape, shape, strict=True)
    ):
        raise CameraFileError(path, f"{what} has shape {list(array.shape)}, expected {expected}")
    if not np.all(np.isfinite(array)):
        raise CameraFileError(path, f"{what} contains NaN or infinite values")
    return array
