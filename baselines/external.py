"""Methods whose official code is needed (VideoCrafter, DynamiCrafter): the user's checkout of the
official repository runs as a subprocess in its own Python environment.

Interface, per method NAME (upper-cased in the variable names):

| environment variable | meaning | default |
| --- | --- | --- |
| MFBENCH_<NAME>_DIR | checkout of the official repository | required |
| MFBENCH_<NAME>_PYTHON | python executable of its environment | required |
| MFBENCH_<NAME>_CHECKPOINT | model checkpoint | the registered weights under the weights root |
| MFBENCH_<NAME>_CONFIG | inference config, relative to the checkout or absolute | the method's official one |
| MFBENCH_<NAME>_PROMPT | text prompt (the benchmark clips have no captions) | the method's |
| MFBENCH_<NAME>_TIMEOUT | seconds one video may take | 1800 |

For each video the wrapper writes the reference image (resized to the model's resolution) and the prompt
into a fresh folder, runs the official inference script on it with the checkout as working directory
and the seed given, reads the MP4 the script writes, and resizes its frames to the trajectory's size.
The script's output goes to a log whose last lines are quoted when it fails."""

from __future__ import annotations

import os
import subprocess
import tempfile
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from baselines.base import Method
from baselines.resize import fit_reference
from motionflow.camera.trajectory import Trajectory
from motionflow.data.video_io import read_video
from motionflow.errors import FrameCountError, MissingWeightsError, MotionFlowError
from motionflow.utils.io import content_hash
from motionflow.weights import WeightSpec, weights_path

DEFAULT_TIMEOUT_S = 1800.0
LOG_TAIL_LINES = 15


class MethodUnavailableError(MotionFlowError, RuntimeError):
    """A method's checkout or environment is not configured or not where the settings say."""


class ExternalRunError(MotionFlowError, RuntimeError):
    """The official inference script failed or wrote no usable video."""


def setting_name(method: str, key: str) -> str:
    return f"MFBENCH_{method.upper()}_{key.upper()}"


@dataclass(frozen=True)
class ExternalSettings:
    checkout: Path | None
    python: Path | None
    checkpoint: Path | None
    config: str | None
    prompt: str | None
    timeout_s: float

    @classmethod
    def from_environment(cls, method: str) -> ExternalSettings:
        def value(key: str) -> str | None:
            return os.environ.get(setting_name(method, key)) or None

        def path(key: str) -> Path | None:
            found = value(key)
            return None if found is None else Path(found).expanduser()

        timeout = value("timeout")
        return cls(
            checkout=path("dir"),
            python=path("python"),
            checkpoint=path("checkpoint"),
            config=value("config"),
            prompt=os.environ.get(setting_name(method, "prompt")),
            timeout_s=float(timeout) if timeout else DEFAULT_TIMEOUT_S,
        )


def run_script(command: list[str], cwd: Path, log_path: Path, timeout_s: float) -> None:
    """Runs `command` in `cwd` with its output in `log_path`; ExternalRunError (with the log's last lines)
    when it cannot start, times out or exits non-zero."""
    with open(log_path, "wb") as log:
        try:
            completed = subprocess.run(
                command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s
            )
        except subprocess.TimeoutExpired:
            raise ExternalRunError(
                f"{command[1]} timed out after {timeout_s:g} s; {log_tail(log_path)}"
            ) from None
        except OSError as error:
            raise ExternalRunError(f"cannot start {command[0]}: {error}") from None
    if completed.returncode != 0:
        raise ExternalRunError(f"{command[1]} exited with code {completed.returncode}; {log_tail(log_path)}")


def log_tail(log_path: Path) -> str:
    lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    if not lines:
        return "no output"
    return "last output: " + " | ".join(line.strip() for line in lines[-LOG_TAIL_LINES:])


class ExternalMethod(Method):
    """A method run by its official inference script (subclasses give the script's command line)."""

    entry_point: ClassVar[str]
    """The inference script, relative to the checkout."""
    source: ClassVar[str]
    """Where the official code is."""
    default_prompt: ClassVar[str]
    weights: WeightSpec
    """The model checkpoint (subclasses with several models set it per instance, as the next two)."""
    default_config: str
    resolution: tuple[int, int]
    """(H, W) the model generates."""

    def __init__(self, settings: ExternalSettings | None = None):
        self.settings = settings if settings is not None else ExternalSettings.from_environment(self.name)

    @property
    def prompt(self) -> str:
        return self.default_prompt if self.settings.prompt is None else self.settings.prompt

    def _unavailable(self, problem: str, key: str) -> MethodUnavailableError:
        return MethodUnavailableError(
            f"{self.name}: {problem}; set ${setting_name(self.name, key)} (the official code: {self.source})"
        )

    def checkpoint_path(self) -> Path:
        if self.settings.checkpoint is None:
            return weights_path(self.weights.name)
        if not self.settings.checkpoint.is_file():
            raise MissingWeightsError(
                f"{self.name} checkpoint {self.settings.checkpoint} not found (named by "
                f"${setting_name(self.name, 'checkpoint')}; source: {self.weights.source})"
            )
        return self.settings.checkpoint

    def config_path(self) -> Path:
        config = Path(self.settings.config or self.default_config).expanduser()
        return config if config.is_absolute() else self.checkout() / config

    def checkout(self) -> Path:
        checkout = self.settings.checkout
        if checkout is None:
            raise self._unavailable("no checkout of the official repository is configured", "dir")
        if not (checkout / self.entry_point).is_file():
            raise self._unavailable(f"{checkout} has no {self.entry_point}", "dir")
        return checkout

    def python(self) -> Path:
        python = self.settings.python
        if python is None:
            raise self._unavailable("no python executable of its environment is configured", "python")
        if not python.is_file():
            raise self._unavailable(f"python executable {python} does not exist", "python")
        return python

    def check_available(self) -> None:
        self.checkout()
        self.python()
        self.checkpoint_path()
        if not self.config_path().is_file():
            raise self._unavailable(f"inference config {self.config_path()} does not exist", "config")

    def fingerprint(self) -> str:
        checkpoint = self.checkpoint_path()
        stat = checkpoint.stat()
        return content_hash(
            self.name,
            str(checkpoint),
            stat.st_size,
            stat.st_mtime_ns,
            str(self.config_path()),
            self.prompt,
            self.resolution,
        )

    @abstractmethod
    def command(self, workdir: Path, seed: int, num_frames: int) -> list[str]:
        """The inference command for the inputs written under `workdir` (see `write_inputs`)."""

    @abstractmethod
    def write_inputs(self, workdir: Path, reference_image: np.ndarray) -> None:
        """Writes the reference image (at `resolution`) and the prompt where the script reads them."""

    @abstractmethod
    def output_video(self, workdir: Path) -> Path:
        """Where the script writes the video."""

    def _generate(
        self, reference_image: np.ndarray, trajectory: Trajectory, seed: int, ground_truth: np.ndarray | None
    ) -> np.ndarray:
        self.check_available()
        num_frames = len(trajectory)
        with tempfile.TemporaryDirectory(prefix=f"mfbench-{self.name}-") as directory:
            workdir = Path(directory)
            self.write_inputs(workdir, fit_reference(reference_image, self.resolution))
            run_script(
                self.command(workdir, seed, num_frames),
                self.checkout(),
                workdir / "log.txt",
                self.settings.timeout_s,
            )
            output = self.output_video(workdir)
            if not output.is_file():
                raise ExternalRunError(
                    f"{self.entry_point} wrote no video at {output}; {log_tail(workdir / 'log.txt')}"
                )
            video = read_video(output)
        if len(video) != num_frames:
            raise FrameCountError(f"{self.name} wrote {len(video)} frames, {num_frames} requested")
        return np.stack([fit_reference(frame, trajectory.image_size) for frame in video])
