"""The one interface every video-generation method implements, and the method registry."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from motionflow.camera.trajectory import Trajectory
from motionflow.data.video_io import check_video_array
from motionflow.errors import FrameCountError
from motionflow.pipeline import SamplingOptions
from motionflow.utils.registry import Registry


@dataclass(frozen=True)
class MethodRequirements:
    """What a method needs, so the harness can say what is missing before it runs anything."""

    weights: tuple[str, ...] = ()
    uses_camera: bool = True
    uses_text_prompt: bool = False
    needs_ground_truth: bool = False
    """Only reference rows (`oracle`) read the ground-truth video."""


class Method(ABC):
    """reference image + trajectory -> video.

    `trajectory` carries the intrinsics (pixels of `trajectory.image_size`); the output has that size."""

    name: str = ""
    requirements: MethodRequirements = MethodRequirements()
    sampling: SamplingOptions | None = None
    """The sampler settings of a diffusion method on this package's pipelines; None for the others."""
    bundled_checkpoint: ClassVar[str | None] = None
    """The checkpoint folder shipped with the package (motionflow/checkpoints/<name>) that the method
    runs by default, if any."""

    def check_available(self) -> None:
        """Raises an error naming what is missing (weights, a checkout) before anything runs; nothing to
        check by default."""
        return None

    def sampling_settings(self) -> dict[str, Any] | None:
        """The sampler settings as recorded beside its videos; None for a method that does not sample."""
        return None if self.sampling is None else asdict(self.sampling)

    def fingerprint(self) -> str:
        """Identifies what the outputs depend on besides the inputs (e.g. a checkpoint's hash), so a run
        regenerates a cached video when it changes."""
        return self.name

    @abstractmethod
    def _generate(
        self, reference_image: np.ndarray, trajectory: Trajectory, seed: int, ground_truth: np.ndarray | None
    ) -> np.ndarray:
        """uint8 [F, H, W, 3] for the F frames of `trajectory`."""

    def generate(
        self,
        reference_image: np.ndarray,
        trajectory: Trajectory,
        num_frames: int,
        seed: int = 0,
        ground_truth: np.ndarray | None = None,
    ) -> np.ndarray:
        """Checks inputs and output shape around the method's own `_generate`."""
        reference_image = np.asarray(reference_image)
        if reference_image.dtype != np.uint8 or reference_image.ndim != 3 or reference_image.shape[-1] != 3:
            raise ValueError(
                f"reference image must be uint8 [H, W, 3], got {reference_image.dtype} {reference_image.shape}"
            )
        if len(trajectory) != num_frames:
            raise FrameCountError(f"trajectory has {len(trajectory)} frames, {num_frames} requested")
        if self.requirements.needs_ground_truth:
            if ground_truth is None:
                raise ValueError(f"method {self.name!r} needs the ground-truth video")
            check_video_array(ground_truth)
            if len(ground_truth) != num_frames:
                raise FrameCountError(f"ground truth has {len(ground_truth)} frames, {num_frames} requested")
        video = check_video_array(self._generate(reference_image, trajectory, seed, ground_truth))
        height, width = trajectory.image_size
        if video.shape != (num_frames, height, width, 3):
            raise FrameCountError(
                f"{self.name} produced {video.shape}, expected {(num_frames, height, width, 3)}"
            )
        return video


METHODS: Registry[type[Method]] = Registry("method")


def create_method(name: str, **options: Any) -> Method:
    """The registered method `name`, given the options its constructor accepts (None values are left out);
    an option it does not take is an error naming it."""
    given = {key: value for key, value in options.items() if value is not None}
    rejected = sorted(set(given) - set(accepted_options(name, given)))
    if rejected:
        raise ValueError(
            f"method {name!r} does not take {', '.join('--' + key.replace('_', '-') for key in rejected)}"
        )
    return METHODS.get(name)(**given)


def accepted_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The entries of `options` that method `name`'s constructor takes (sampler settings of a run apply to
    the methods that sample and pass over `static`, `warp`, ...)."""
    accepted = set(inspect.signature(METHODS.get(name).__init__).parameters)
    return {key: value for key, value in options.items() if key in accepted}
