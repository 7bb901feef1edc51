"""Datasets in DL3DV (nerfstudio) layout: one folder per scene.

    root/
      manifest.json                   optional: how the dataset was made (see build.py)
      <split>/                        optional level: Dl3dvDataset(root, split) reads root/<split>/
        <scene>/
          transforms.json             nerfstudio cameras: OpenGL-axes c2w, pixel intrinsics, frames[].file_path
          images/frame_00001.png ...  the frames, numbered from 1

Frames are the files transforms.json lists, in its (natural) file-path order; every file must exist
and images/ must hold no other frames, so that a scene with missing or extra frames is reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from motionflow.camera.nerfstudio_format import read_transforms_json, write_transforms_json
from motionflow.camera.trajectory import Trajectory
from motionflow.data.clips import DATASET_LAYOUTS, Clip, ClipDataset, ClipError, ClipInfo, atomic_directory
from motionflow.data.video_io import FRAME_SUFFIXES, read_image, write_frames
from motionflow.errors import MotionFlowError

TRANSFORMS = "transforms.json"
IMAGES = "images"


def dl3dv_frame_name(index: int) -> str:
    """DL3DV numbers frames from 1: frame_00001.png is frame 0."""
    return f"frame_{index + 1:05d}.png"


@DATASET_LAYOUTS.register("dl3dv")
class Dl3dvDataset(ClipDataset):
    layout = "dl3dv"

    def __init__(self, root: str | Path, split: str | None = None):
        super().__init__(root, split)
        self.directory = self.root / split if split else self.root
        if not self.directory.is_dir():
            raise FileNotFoundError(f"{self.directory}: no such dataset folder")

    @staticmethod
    def is_split_folder(folder: Path) -> bool:
        """A folder that holds scene folders (no split is found when the scenes sit in root itself)."""
        return not (folder / TRANSFORMS).exists() and any(folder.glob(f"*/{TRANSFORMS}"))

    def clip_names(self) -> list[str]:
        """Scene folders with a transforms.json or an images/ folder."""
        return sorted(
            child.name
            for child in self.directory.iterdir()
            if child.is_dir()
            and not child.name.startswith(".")
            and ((child / TRANSFORMS).is_file() or (child / IMAGES).is_dir())
        )

    def _read_cameras(self, name: str) -> tuple[Trajectory, list[Path]]:
        """The trajectory and the frame files it lists; ClipError if files are missing or extra."""
        scene = self.directory / name
        transforms = scene / TRANSFORMS
        if not transforms.is_file():
            raise ClipError(name, f"no camera file {transforms}")
        try:
            trajectory = read_transforms_json(transforms)
        except MotionFlowError as error:
            raise ClipError(name, str(error)) from error
        listed = [scene / file_path for file_path in trajectory.metadata["file_paths"]]
        missing = [str(path.relative_to(scene)) for path in listed if not path.is_file()]
        if missing:
            raise ClipError(
                name, f"{len(missing)} frame file(s) listed in {TRANSFORMS} are missing: {missing[:3]}"
            )
        listed_names = {path.resolve() for path in listed}
        images = scene / IMAGES
        extra = sorted(
            path.name
            for path in (images.iterdir() if images.is_dir() else [])
            if path.suffix.lower() in FRAME_SUFFIXES and path.resolve() not in listed_names
        )
        if extra:
            raise ClipError(
                name,
                f"{TRANSFORMS} lists {len(listed)} frames but {IMAGES}/ holds {len(extra)} more: {extra[:3]}",
            )
        return trajectory, listed

    def load(self, name: str) -> Clip:
        trajectory, files = self._read_cameras(name)
        try:
            frames = np.stack([read_image(path) for path in files])
        except ValueError as error:
            raise ClipError(name, f"frames differ in size ({error})") from None
        except MotionFlowError as error:
            raise ClipError(name, str(error)) from error
        return Clip(name, frames, trajectory)

    def inspect(self, name: str) -> ClipInfo:
        try:
            trajectory, files = self._read_cameras(name)
            with Image.open(files[0]) as image:
                width, height = image.size
        except ClipError as error:
            return ClipInfo(name, problem=error.problem)
        except OSError as error:
            return ClipInfo(name, problem=f"cannot read {files[0]}: {error}")
        problem = ""
        if (height, width) != trajectory.image_size:
            problem = (
                f"frames are {height}x{width} (H x W) but {TRANSFORMS} says "
                f"{trajectory.image_size[0]}x{trajectory.image_size[1]}"
            )
        return ClipInfo(name, len(files), len(trajectory), (height, width), problem)

    @staticmethod
    def write(root: str | Path, split: str | None, clip: Clip) -> Path:
        """Writes a scene folder atomically (PNG frames, then transforms.json); returns the folder."""
        scene = (Path(root) / split if split else Path(root)) / clip.name
        with atomic_directory(scene) as folder:
            paths = write_frames(folder / IMAGES, clip.frames, name=dl3dv_frame_name)
            write_transforms_json(
                folder / TRANSFORMS, clip.trajectory, [f"{IMAGES}/{path.name}" for path in paths]
            )
        return scene
