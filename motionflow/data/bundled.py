"""The six real RealEstate10K clips shipped with the package (16 frames, 256 x 384, with cameras).

They are a small real test set that needs no download; see assets/re10k/README.md for their source
and licence. On `2f25826f0d0ef09a`, COLMAP reconstructs nothing: a real failure case, kept."""

from __future__ import annotations

from pathlib import Path

from motionflow.data.clips import Clip, ClipError
from motionflow.data.re10k_dataset import CAMERAS, VIDEOS, load_re10k_clip
from motionflow.utils.io import atomic_write_bytes, atomic_write_json

BUNDLED_RE10K_DIR = Path(__file__).parent / "assets" / "re10k"
ATTRIBUTION = "README.md"


def bundled_clip_names() -> list[str]:
    """Ids of the bundled clips (each has <id>.mp4 and <id>.txt)."""
    return sorted(path.stem for path in BUNDLED_RE10K_DIR.glob("*.txt") if path.with_suffix(".mp4").is_file())


def load_bundled_clip(name: str) -> Clip:
    """One bundled clip: frames uint8 [16, 256, 384, 3] and its Trajectory (K in pixels of 256 x 384)."""
    if name not in bundled_clip_names():
        raise ClipError(name, f"not a bundled clip; bundled: {', '.join(bundled_clip_names())}")
    return load_re10k_clip(name, BUNDLED_RE10K_DIR / f"{name}.txt", BUNDLED_RE10K_DIR / f"{name}.mp4")


def bundled_re10k_clips() -> list[Clip]:
    """All bundled clips, in id order."""
    return [load_bundled_clip(name) for name in bundled_clip_names()]


def export_bundled_re10k(root: str | Path, split: str = "test") -> list[Path]:
    """Copies the bundled clips byte for byte into a RealEstate10K-layout dataset at root/<split>/
    (videos/ and cameras/), with their attribution and a manifest; returns the camera files."""
    root = Path(root)
    camera_files = []
    names = bundled_clip_names()
    for name in names:
        atomic_write_bytes(
            root / split / VIDEOS / f"{name}.mp4", (BUNDLED_RE10K_DIR / f"{name}.mp4").read_bytes()
        )
        camera_file = root / split / CAMERAS / f"{name}.txt"
        atomic_write_bytes(camera_file, (BUNDLED_RE10K_DIR / f"{name}.txt").read_bytes())
        camera_files.append(camera_file)
    atomic_write_bytes(root / ATTRIBUTION, (BUNDLED_RE10K_DIR / ATTRIBUTION).read_bytes())
    atomic_write_json(
        root / "manifest.json",
        {
            "kind": "bundled-re10k",
            "layout": "re10k",
            "status": "complete",
            "clips": [{"name": name, "split": split} for name in names],
        },
    )
    return camera_files
