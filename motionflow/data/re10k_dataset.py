"""Datasets in RealEstate10K layout: one camera file per clip, frames as MP4 or PNG.

    root/
      manifest.json                   optional: how the dataset was made (see build.py)
      <split>/                        train, test, ...
        cameras/<clip>.txt            RealEstate10K camera file (line 1 URL, then line i + 2 <-> frame i)
        videos/<clip>.mp4             the frames as an H.264 video,              } either one;
        frames/<clip>/00000.png ...   or as PNG files (lossless, numbered from 0) } PNG wins if both

Intrinsics in the camera file are normalised; they are returned in pixels of the frames read."""

from __future__ import annotations

import shutil
from pathlib import Path

from motionflow.camera.re10k_format import read_re10k, write_re10k
from motionflow.data.clips import DATASET_LAYOUTS, Clip, ClipDataset, ClipError, ClipInfo, atomic_directory
from motionflow.data.video_io import probe_video, read_video, write_frames, write_video
from motionflow.errors import MotionFlowError

CAMERAS, VIDEOS, FRAMES = "cameras", "videos", "frames"
STORAGES = ("video", "frames")


def load_re10k_clip(name: str, camera_path: Path, frames_path: Path) -> Clip:
    """A clip from a RealEstate10K camera file and its video or PNG folder; ClipError naming it if they
    cannot be read or disagree. K is converted to pixels of the frames read."""
    try:
        frames = read_video(frames_path)
        trajectory = read_re10k(camera_path, frames.shape[1:3])
        return Clip(name, frames, trajectory)
    except ClipError:
        raise
    except MotionFlowError as error:
        raise ClipError(name, str(error)) from error


@DATASET_LAYOUTS.register("re10k")
class Re10kDataset(ClipDataset):
    layout = "re10k"

    def __init__(self, root: str | Path, split: str):
        super().__init__(root, split)
        self.directory = self.root / split
        if not self.directory.is_dir():
            found = ", ".join(self.splits(self.root)) or "none"
            raise FileNotFoundError(f"{self.directory}: no such split (splits found: {found})")

    @staticmethod
    def is_split_folder(folder: Path) -> bool:
        """A folder holding cameras/, videos/ or frames/."""
        return any((folder / part).is_dir() for part in (CAMERAS, VIDEOS, FRAMES))

    def camera_path(self, name: str) -> Path:
        return self.directory / CAMERAS / f"{name}.txt"

    def frames_path(self, name: str) -> Path | None:
        """The PNG folder of a clip if there is one, else its video, else None."""
        folder, video = self.directory / FRAMES / name, self.directory / VIDEOS / f"{name}.mp4"
        if folder.is_dir():
            return folder
        return video if video.is_file() else None

    def clip_names(self) -> list[str]:
        names = {path.stem for path in (self.directory / CAMERAS).glob("*.txt")}
        names |= {path.stem for path in (self.directory / VIDEOS).glob("*.mp4")}
        frames = self.directory / FRAMES
        if frames.is_dir():
            names |= {
                path.name for path in frames.iterdir() if path.is_dir() and not path.name.startswith(".")
            }
        return sorted(name for name in names if not name.startswith("."))

    def _files(self, name: str) -> tuple[Path, Path]:
        camera_path, frames_path = self.camera_path(name), self.frames_path(name)
        if not camera_path.is_file():
            raise ClipError(name, f"no camera file {camera_path}")
        if frames_path is None:
            raise ClipError(
                name,
                f"no video {self.directory / VIDEOS / name}.mp4 and no frame folder {self.directory / FRAMES / name}",
            )
        return camera_path, frames_path

    def load(self, name: str) -> Clip:
        return load_re10k_clip(name, *self._files(name))

    def inspect(self, name: str) -> ClipInfo:
        try:
            camera_path, frames_path = self._files(name)
            video = probe_video(frames_path)
            trajectory = read_re10k(camera_path, (video.height, video.width))
        except MotionFlowError as error:
            return ClipInfo(name, problem=error.problem if isinstance(error, ClipError) else str(error))
        problem = ""
        if len(trajectory) != video.num_frames:
            problem = f"{len(trajectory)} cameras but {video.num_frames} frames"
        return ClipInfo(name, video.num_frames, len(trajectory), (video.height, video.width), problem)

    @staticmethod
    def write(root: str | Path, split: str, clip: Clip, storage: str = "video") -> Path:
        """Writes a clip (frames first, camera file last, each atomically); returns its camera file.

        A clip whose camera file exists is complete. Storage "video" is H.264 (near-lossless, even
        sizes only); "frames" is PNG (lossless)."""
        if storage not in STORAGES:
            raise ValueError(f"storage must be one of {STORAGES}, got {storage!r}")
        directory = Path(root) / split
        if storage == "video":
            height, width = clip.frames.shape[1:3]
            if height % 2 or width % 2:
                raise ValueError(
                    f"H.264 needs even frame sizes, got {height}x{width}; store PNG frames instead"
                )
            shutil.rmtree(directory / FRAMES / clip.name, ignore_errors=True)
            write_video(directory / VIDEOS / f"{clip.name}.mp4", clip.frames)
        else:
            (directory / VIDEOS / f"{clip.name}.mp4").unlink(missing_ok=True)
            with atomic_directory(directory / FRAMES / clip.name) as folder:
                write_frames(folder, clip.frames)
        return write_re10k(directory / CAMERAS / f"{clip.name}.txt", clip.trajectory)
