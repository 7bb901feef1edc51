"""Errors raised on bad input. Each names the file (and line) it comes from, where there is one."""

from __future__ import annotations

from pathlib import Path


class MotionFlowError(Exception):
    """Base class of every error this project raises on purpose."""


class CameraFileError(MotionFlowError, ValueError):
    """A camera/trajectory file is malformed: wrong field count, non-numbers, invalid pose."""

    def __init__(self, path: str | Path | None, problem: str, line: int | None = None):
        self.path = None if path is None else Path(path)
        self.line = line
        self.problem = problem
        where = str(self.path) if self.path is not None else "<trajectory>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {problem}")


class PoseError(MotionFlowError, ValueError):
    """A pose matrix is not a valid rigid transform (NaN/inf, not a rotation, wrong shape)."""


class VideoError(MotionFlowError, ValueError):
    """A video cannot be read or written (missing, corrupt, wrong shape or dtype)."""


class FrameCountError(MotionFlowError, ValueError):
    """Two sequences that must pair frame by frame have different lengths."""


class MissingWeightsError(MotionFlowError, FileNotFoundError):
    """A pretrained weight file or model directory is not present locally."""
