"""Opening a dataset folder whatever its layout: the manifest names it, else the files show it."""

from __future__ import annotations

import json
from pathlib import Path

from motionflow.data.build import MANIFEST
from motionflow.data.clips import DATASET_LAYOUTS, ClipDataset
from motionflow.data.dl3dv_dataset import TRANSFORMS, Dl3dvDataset
from motionflow.data.re10k_dataset import Re10kDataset


def detect_layout(root: str | Path) -> str:
    """ "re10k" or "dl3dv": from manifest.json if there is one, else from the files."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    manifest = root / MANIFEST
    if manifest.is_file():
        try:
            layout = json.loads(manifest.read_text()).get("layout")
        except (ValueError, AttributeError):
            layout = None
        if layout in DATASET_LAYOUTS:
            return layout
    if Re10kDataset.splits(root):
        return "re10k"
    if Dl3dvDataset.splits(root) or any(root.glob(f"*/{TRANSFORMS}")):
        return "dl3dv"
    raise ValueError(
        f"{root}: not a dataset folder (expected <split>/cameras/*.txt for RealEstate10K layout or "
        f"[<split>/]<scene>/{TRANSFORMS} for DL3DV layout)"
    )


def open_dataset(root: str | Path) -> list[ClipDataset]:
    """One dataset per split found under `root` (DL3DV scenes directly under root form one, split None)."""
    root = Path(root)
    layout = detect_layout(root)
    if layout == "re10k":
        return [Re10kDataset(root, split) for split in Re10kDataset.splits(root)]
    splits = Dl3dvDataset.splits(root)
    return [Dl3dvDataset(root, split) for split in splits] if splits else [Dl3dvDataset(root)]
