"""Files and images as base64 data URIs, so the report is one file that needs nothing else."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image


def data_uri(data: bytes, mime_type: str) -> str:
    return f"data:{mime_type};base64," + base64.b64encode(data).decode("ascii")


def mp4_data_uri(path: Path) -> str:
    """The MP4 as it is on disk: the run writes H.264 yuv420p, which browsers play."""
    return data_uri(path.read_bytes(), "video/mp4")


def png_data_uri(image: np.ndarray) -> str:
    """A uint8 [H, W, 3] image as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return data_uri(buffer.getvalue(), "image/png")
