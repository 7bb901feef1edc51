"""Training the small monocular depth network (`motionflow.models.depth.DepthNet`) on synthetic scenes.

Views of training scenes (seeds from `seed_offset`, above the held-out and test ranges) are rendered
with their exact z-depth; the loss is the L1 distance of the predicted inverse depth to the true one
(0 for the sky). Held-out scenes (from HELD_OUT_SEED_OFFSET) are scored every `validate_every` steps
with the usual monocular-depth errors over surfaces: AbsRel (mean |z' - z| / z) and delta1 (share with
max(z'/z, z/z') < 1.25). The run directory holds the model (model/, `DepthNet.save_pretrained`),
losses.csv, validation.csv, summary.json and training_curve.png (`plot_depth_curve`)."""

from __future__ import annotations

import csv
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from rich.progress import Progress

from motionflow.data.synthetic import render_views, synthetic_setup
from motionflow.data.synthetic.paths import PATHS
from motionflow.models.depth import SKY_INVERSE_DEPTH, DepthNet
from motionflow.training.config import HELD_OUT_SEED_OFFSET
from motionflow.training.data import frames_to_model_range
from motionflow.training.plots import plot_depth_curve
from motionflow.training.trainer import LOSSES_FILE, SUMMARY_FILE, VALIDATION_FILE, cpu_model_name
from motionflow.utils.io import atomic_write_json

MODEL_FOLDER = "model"
CURVE_FILE = "training_curve.png"
SCENE_FAMILIES = ("indoor", "outdoor")
DELTA_THRESHOLD = 1.25


@dataclass(frozen=True)
class DepthTrainingSettings:
    """Everything a depth run depends on; with the seed it fixes the run."""

    steps: int = 4000
    batch_size: int = 16
    learning_rate: float = 1e-3
    image_size: tuple[int, int] = (64, 64)
    channels: tuple[int, ...] = (16, 32, 64, 128, 256)
    scenes: int = 1024
    views_per_scene: int = 8
    seed_offset: int = 1000
    """First training scene seed; the test (0-499) and held-out (500-...) scenes lie below."""
    validation_scenes: int = 16
    validate_every: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.steps, self.batch_size, self.scenes, self.views_per_scene, self.validate_every) < 1:
            raise ValueError("steps, batch_size, scenes, views_per_scene and validate_every must be >= 1")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.seed_offset < HELD_OUT_SEED_OFFSET + self.validation_scenes:
            raise ValueError(
                f"training scenes from seed {self.seed_offset} overlap the held-out scenes "
                f"{HELD_OUT_SEED_OFFSET}-{HELD_OUT_SEED_OFFSET + self.validation_scenes - 1}"
            )


@dataclass
class DepthViews:
    """Rendered views: uint8 images [N, H, W, 3] and their inverse z-depth float32 [N, H, W] (0: sky)."""

    images: np.ndarray
    inverse_depth: np.ndarray


def render_depth_views(
    first_seed: int, scenes: int, views_per_scene: int, image_size: tuple[int, int], progress: bool = True
) -> DepthViews:
    """`views_per_scene` views along the camera path of each scene seed, families and paths taken in turn."""
    paths = sorted(PATHS.names())
    images, inverse = [], []
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("rendering depth views", total=scenes)
        for index in range(scenes):
            seed = first_seed + index
            family = SCENE_FAMILIES[index % len(SCENE_FAMILIES)]
            path = paths[(index // len(SCENE_FAMILIES)) % len(paths)]
            scene, trajectory = synthetic_setup(family, path, views_per_scene, image_size, seed)
            rendering = render_views(scene, trajectory)
            images.append(rendering.frames)
            inverse.append(
                np.where(np.isfinite(rendering.depth), 1.0 / rendering.depth, 0.0).astype(np.float32)
            )
            bar.advance(task)
    return DepthViews(np.concatenate(images), np.concatenate(inverse))


def _to_model_input(images: np.ndarray) -> torch.Tensor:
    return frames_to_model_range(torch.from_numpy(images).permute(0, 3, 1, 2))


def depth_errors(model: DepthNet, views: DepthViews, batch_size: int = 32) -> dict[str, float]:
    """AbsRel and delta1 over the surface pixels of `views` (sky pixels scored only as `sky_accuracy`:
    the share of them predicted as sky or surface correctly, over all pixels)."""
    absolute_relative, within, sky_correct, count = 0.0, 0.0, 0.0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(views.images), batch_size):
            predicted = model(_to_model_input(views.images[start : start + batch_size])).squeeze(1).numpy()
            target = views.inverse_depth[start : start + batch_size]
            surface = target > 0
            predicted_depth = 1.0 / np.maximum(predicted[surface], 1e-6)
            true_depth = 1.0 / target[surface]
            absolute_relative += float(np.sum(np.abs(predicted_depth - true_depth) / true_depth))
            ratio = np.maximum(predicted_depth / true_depth, true_depth / predicted_depth)
            within += float(np.sum(ratio < DELTA_THRESHOLD))
            count += int(surface.sum())
            sky_correct += float(np.sum((predicted < SKY_INVERSE_DEPTH) == ~surface))
    model.train()
    return {
        "abs_rel": absolute_relative / max(count, 1),
        "delta1": within / max(count, 1),
        "sky_accuracy": sky_correct / views.inverse_depth.size,
    }


def train_depth_net(settings: DepthTrainingSettings, out: str | Path, progress: bool = True) -> Path:
    """Trains a DepthNet from scratch and writes the run directory; returns the model folder."""
    out = Path(out)
    if (out / MODEL_FOLDER).exists():
        raise FileExistsError(f"{out / MODEL_FOLDER} exists; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    training = render_depth_views(
        settings.seed_offset, settings.scenes, settings.views_per_scene, settings.image_size, progress
    )
    held_out = render_depth_views(
        HELD_OUT_SEED_OFFSET, settings.validation_scenes, 4, settings.image_size, False
    )
    model = DepthNet(channels=settings.channels, image_size=settings.image_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.steps)
    started = time.perf_counter()
    with (
        open(out / LOSSES_FILE, "w", newline="") as losses_file,
        open(out / VALIDATION_FILE, "w", newline="") as validation_file,
        Progress(disable=not progress) as bar,
    ):
        losses = csv.writer(losses_file)
        losses.writerow(["phase", "step", "loss", "learning_rate", "seconds"])
        validation = csv.DictWriter(validation_file, ["step", "abs_rel", "delta1", "sky_accuracy"])
        validation.writeheader()
        task = bar.add_task("training depth", total=settings.steps)
        for step in range(1, settings.steps + 1):
            indices = rng.choice(len(training.images), settings.batch_size, replace=False)
            images = _to_model_input(training.images[indices])
            flips = torch.from_numpy(rng.random(settings.batch_size) < 0.5)
            target = torch.from_numpy(training.inverse_depth[indices])[:, None]
            images = torch.where(flips[:, None, None, None], images.flip(-1), images)
            target = torch.where(flips[:, None, None, None], target.flip(-1), target)
            loss = torch.nn.functional.l1_loss(model(images), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            learning_rate = schedule.get_last_lr()[0]
            schedule.step()
            losses.writerow(
                ["depth", step, f"{loss.item():.6f}", learning_rate, f"{time.perf_counter() - started:.1f}"]
            )
            if step % settings.validate_every == 0 or step == settings.steps:
                errors = depth_errors(model, held_out)
                validation.writerow({"step": step, **errors})
                validation_file.flush()
                losses_file.flush()
            bar.update(task, advance=1, description=f"training depth (loss {loss.item():.4f})")
    seconds = time.perf_counter() - started
    model.eval()
    model.save_pretrained(out / MODEL_FOLDER)
    plot_depth_curve(out, out / CURVE_FILE)
    atomic_write_json(
        out / SUMMARY_FILE,
        {
            "settings": asdict(settings),
            "seconds": round(seconds, 1),
            "held_out": {key: round(value, 4) for key, value in errors.items()},
            "hardware": {
                "device": cpu_model_name(),
                "torch_threads": torch.get_num_threads(),
                "torch": torch.__version__,
            },
        },
    )
    return out / MODEL_FOLDER
