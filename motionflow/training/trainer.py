"""Training runs: the pretraining stand-ins and the two stages of Section 3.6, through `accelerate`.

One process (CPU or GPU) or many (`accelerate launch` on several GPUs or nodes: DDP, mixed precision on
GPUs). A run directory holds everything:

    <out>/training_config.json        the settings (a resumed run must have the same)
    <out>/losses.csv                  phase, step, loss, learning_rate, grad_norm, seconds
    <out>/validation.csv              held-out condition use every `validation.every` steps (when set)
    <out>/summary.json                steps, wall time and last losses per phase, hardware
    <out>/<phase>/checkpoint-<step>/  safetensors model + optimizer + RNG + step (latest few kept)
    <out>/<phase>/model/              the phase's final weights (phase.json marks it complete)
    <out>/model/                      the trained MotionFlow pipeline (MotionFlowPipeline.from_pretrained)

`autoencoder` trains the small VAE and sets its latent scale; `pretrain` the video backbone on it.
`decoder`, after the stages or alone on `model.init`, fine-tunes the trained model's VAE decoder.
Stage 1 trains `MotionFlowModel.stage_parameters(1)` (trajectory encoder, semantic encoder and the new
attention modules) with everything else frozen; stage 2 trains `stage_parameters(2)`. A baseline
(`model.method`) trains its own stage groups the same way. With `model.base`, the VAE and backbone of
another run's stand-in phases are the starting point (what every method of a comparison shares). Adam, the
epsilon loss of Eq. 2. Every step's randomness comes from (seed, phase, step, process), and the data
order from (seed, phase), so `--resume` continues exactly as if the run had never stopped."""

from __future__ import annotations

import csv
import json
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator, DistributedDataParallelKwargs
from diffusers import AutoencoderKL
from rich.progress import Progress, TextColumn
from torch import nn
from torch.utils.data import DataLoader

from motionflow.checkpoints.depth import depth_weights_hash, load_depth_net
from motionflow.errors import MotionFlowError
from motionflow.models.components import MotionFlowComponents
from motionflow.models.config import MotionFlowConfig
from motionflow.models.depth import DepthNet
from motionflow.models.video_denoiser import VideoDenoiser
from motionflow.training.backbone import (
    AutoencoderTrainee,
    BackboneDenoiser,
    DecoderTrainee,
    load_autoencoder,
)
from motionflow.training.checkpoint import (
    CHECKPOINT_PREFIX,
    TrainingProgress,
    checkpoint_folders,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from motionflow.training.condition_use import measure_condition_use, validation_batch
from motionflow.training.config import (
    PHASE_NAMES,
    STAND_IN_PHASES,
    TRAINING_CONFIG_FILE,
    PhaseConfig,
    TrainingConfig,
)
from motionflow.training.data import (
    ClipItems,
    StepSampler,
    batch_inputs,
    build_training_items,
    frames_to_model_range,
)
from motionflow.training.ema import ParameterAverage
from motionflow.training.latent_cache import LatentClipItems
from motionflow.training.losses import epsilon_loss, step_generator, training_scheduler
from motionflow.training.models import build_trainee, load_trainee, pretrained_trainee, save_trained
from motionflow.utils.io import atomic_write_json, atomic_write_text
from motionflow.utils.progress import progress_columns

LOSSES_FILE = "losses.csv"
SUMMARY_FILE = "summary.json"
MODEL_FOLDER = "model"
PHASE_MARKER = "phase.json"
LOSS_COLUMNS = ("phase", "step", "loss", "learning_rate", "grad_norm", "seconds")
VALIDATION_FILE = "validation.csv"
VALIDATION_COLUMNS = (
    "phase",
    "step",
    "condition",
    "timestep",
    "loss_own",
    "loss_other",
    "loss_dropped",
    "loss_gap",
    "prediction_change",
)
CALIBRATION_CLIPS = 4
"""Clips whose frames set the trained VAE's latent scale."""
SUMMARY_WINDOW = 50
"""Steps over which the summary averages a phase's last losses."""
BACKBONE_FIELDS = ("unet", "motion_adapter", "image_encoder", "image_latent_condition")
"""The config parts a base run's backbone must share with the model trained on it."""
CODEC_TRAINEES = (AutoencoderTrainee, DecoderTrainee)
"""Phases that reconstruct frames: no latent cache, weight average or condition-use validation."""


class TrainingError(MotionFlowError):
    """A run that cannot start or continue (existing output without --resume, changed settings)."""


@dataclass(frozen=True)
class TrainingResult:
    """`complete`: every phase ran (else resume it); `model`: the trained model folder, None for an
    incomplete run or a base run (stand-in phases only: its phase folders are what other runs use)."""

    out: Path
    model: Path | None
    steps_this_session: int
    complete: bool


def cpu_model_name() -> str:
    """The CPU model from /proc/cpuinfo where there is one, else what `platform` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def model_config_for(config: TrainingConfig) -> MotionFlowConfig:
    """The model config, with the training image size and frame count as its generation defaults."""
    model_config = config.model.build_config()
    return replace(model_config, image_size=config.data.image_size, num_frames=config.data.num_frames)


def _seeded_components(model_config: MotionFlowConfig, seed: int) -> MotionFlowComponents:
    torch.manual_seed(seed)
    return MotionFlowComponents.random(model_config)


def read_log_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a run's CSV log (losses.csv, validation.csv); none when the file is absent."""
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


class StepLog:
    """A CSV file of rows keyed by phase and step (and TensorBoard scalars when the tensorboard package
    is installed)."""

    def __init__(self, path: Path, columns: tuple[str, ...], keep_until: dict[str, int], write: bool):
        """Rows of each phase up to `keep_until[phase]` survive (a resumed run redoes the later ones)."""
        self.path, self.columns, self.write = path, columns, write
        self.writer = None
        if not write:
            return
        rows = [
            row
            for row in self.rows()
            if row["phase"] in keep_until and int(row["step"]) <= keep_until[row["phase"]]
        ]
        lines = [",".join(columns)] + [",".join(row[column] for column in columns) for row in rows]
        atomic_write_text(path, "\n".join(lines) + "\n")
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return
        self.writer = SummaryWriter(str(path.parent / "tensorboard"), filename_suffix=f".{path.stem}")

    def add(
        self, phase: str, step: int, scalars: dict[str, float], labels: dict[str, str] | None = None
    ) -> None:
        """One row: `labels` (text columns) and `scalars`; TensorBoard gets the scalars as
        <phase>/<label values...>/<name>."""
        if not self.write:
            return
        labels = labels or {}
        values = {
            "phase": phase,
            "step": str(step),
            **labels,
            **{key: f"{value:.6g}" for key, value in scalars.items()},
        }
        with self.path.open("a") as handle:
            handle.write(",".join(values[column] for column in self.columns) + "\n")
        if self.writer is not None:
            prefix = "/".join([phase, *labels.values()])
            for name, value in scalars.items():
                self.writer.add_scalar(f"{prefix}/{name}", value, step)

    def rows(self) -> list[dict[str, str]]:
        return read_log_rows(self.path)

    def read(self, phase: str, column: str) -> list[float]:
        return [float(row[column]) for row in self.rows() if row["phase"] == phase]


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Progress]:
    columns = progress_columns(TextColumn("loss {task.fields[loss]}"))
    with Progress(*columns, disable=not enabled) as bar:
        yield bar


def _single_thread_worker(_: int) -> None:
    torch.set_num_threads(1)


class Trainer:
    def __init__(self, config: TrainingConfig, out: str | Path, resume: bool = False, progress: bool = True):
        self.config = config
        self.out = Path(out)
        self.resume = resume
        on_gpu = torch.cuda.is_available()
        if on_gpu:
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.accelerator = Accelerator(
            mixed_precision=config.optim.mixed_precision if on_gpu else "no",
            kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
        )
        if config.optim.cpu_threads:
            torch.set_num_threads(config.optim.cpu_threads)
        self.show_progress = progress and self.accelerator.is_main_process
        self.model_config = model_config_for(config)
        self.scheduler = training_scheduler()

    @cached_property
    def items(self) -> ClipItems:
        """The training clips, built (and cached to disk) when a phase first needs them."""
        return build_training_items(self.config.data, self.config.seed, progress=self.show_progress)

    @cached_property
    def validation_batch(self) -> dict:
        validation = self.config.validation
        return validation_batch(self.config.data, validation.clips, self.config.seed, validation.split)

    # ------------------------------------------------------------------ run directory

    def _prepare_output(self) -> None:
        stored = self.out / TRAINING_CONFIG_FILE
        settings = self.config.to_dict()
        if stored.exists():
            if not self.resume:
                raise TrainingError(
                    f"{self.out} already holds a training run; pass --resume to continue it or choose another --out"
                )
            # Read back through the config class: settings added since the run started take their defaults.
            try:
                started_with = TrainingConfig.from_dict(json.loads(stored.read_text())).to_dict()
            except (TypeError, ValueError) as error:
                raise TrainingError(f"{stored}: not a readable training config ({error})") from None
            if started_with != settings:
                raise TrainingError(
                    f"{stored}: the run was started with other settings; cannot resume with these"
                )
        elif self.accelerator.is_main_process:
            atomic_write_json(stored, settings)
        self.accelerator.wait_for_everyone()

    def _phase_dir(self, phase: PhaseConfig) -> Path:
        return self.out / phase.name

    def _is_complete(self, phase: PhaseConfig) -> bool:
        return (self._phase_dir(phase) / MODEL_FOLDER / PHASE_MARKER).is_file()

    def resume_points(self) -> dict[str, int]:
        """Per phase, the step a restarted run continues from (losses logged after it are redone)."""
        points = {}
        for phase in self.config.phases:
            if self._is_complete(phase):
                points[phase.name] = phase.steps
            else:
                folders = checkpoint_folders(self._phase_dir(phase))
                points[phase.name] = int(folders[-1].name[len(CHECKPOINT_PREFIX) :]) if folders else 0
        return points

    # ------------------------------------------------------------------ models

    def _stand_in_dir(self, name: str) -> Path | None:
        """The folder of this run's stand-in phase `name`, or of the base run's; None without one."""
        if any(phase.name == name for phase in self.config.phases):
            return self.out / name / MODEL_FOLDER
        if name == "autoencoder" and self.config.model.autoencoder and not self.config.model.base:
            return self._imported_autoencoder_dir()
        if self.config.model.base:
            folder = Path(self.config.model.base).expanduser() / name / MODEL_FOLDER
            if not (folder / PHASE_MARKER).is_file():
                raise TrainingError(
                    f"model.base {self.config.model.base}: its {name} phase is not complete ({folder / PHASE_MARKER} missing)"
                )
            return folder
        return None

    def _imported_autoencoder_dir(self) -> Path:
        """`model.autoencoder` stored once as this run's completed autoencoder phase (0 steps)."""
        folder = self.out / "autoencoder" / MODEL_FOLDER
        source = self.config.model.autoencoder
        if self.accelerator.is_main_process and not (folder / PHASE_MARKER).is_file():
            vae = load_autoencoder(source)
            expected = {**self.model_config.latent_codec["vae"], "scaling_factor": vae.config.scaling_factor}
            differing = sorted(key for key, value in expected.items() if vae.config.get(key) != value)
            if differing:
                raise TrainingError(
                    f"model.autoencoder {source!r}: its VAE differs from this config's in {', '.join(differing)}"
                )
            AutoencoderTrainee(vae, 0, 0.0).save(folder)
            atomic_write_json(
                folder / PHASE_MARKER, {"phase": "autoencoder", "steps": 0, "seconds": 0.0, "source": source}
            )
        self.accelerator.wait_for_everyone()
        return folder

    def _components(self) -> MotionFlowComponents:
        """Components built from the seed, with the VAE of the autoencoder phase when there is one."""
        components = _seeded_components(self.model_config, self.config.seed)
        autoencoder = self._stand_in_dir("autoencoder")
        if autoencoder is not None:
            components = replace(components, vae=AutoencoderTrainee.load_vae(autoencoder))
        return components

    def _pretrained_components(self, pretrain: Path) -> MotionFlowComponents:
        """The components with the backbone trained in a pretrain phase."""
        components = self._components()
        stored = MotionFlowConfig.load(pretrain)
        expected = components.config_for(self.model_config)
        differing = [name for name in BACKBONE_FIELDS if getattr(stored, name) != getattr(expected, name)]
        if differing:
            raise TrainingError(
                f"{pretrain}: its backbone differs from this config's in {', '.join(differing)} "
                "(model.overrides must match the base run's)"
            )
        return BackboneDenoiser.load(pretrain, components).to_components(components)

    def start_model(self, index: int) -> nn.Module:
        """The model a phase starts from: built from the seed, the previous phase's result or the base run."""
        phase, optim = self.config.phases[index], self.config.optim
        if phase.name == "autoencoder":
            torch.manual_seed(self.config.seed)
            vae = AutoencoderKL.from_config(self.model_config.latent_codec["vae"])
            return AutoencoderTrainee(vae, optim.autoencoder_frames, optim.autoencoder_kl_weight)
        if phase.name == "pretrain":
            return BackboneDenoiser(self.model_config, self._components())
        if phase.name == "decoder":
            return DecoderTrainee(self._start_video_model(index), optim.autoencoder_frames)
        return self._start_video_model(index)

    def _start_video_model(self, index: int) -> VideoDenoiser:
        seed, method = self.config.seed, self.config.model.method
        previous = self.config.phases[index - 1] if index > 0 else None
        if previous is not None and previous.name not in STAND_IN_PHASES:
            return load_trainee(method, self._phase_dir(previous) / MODEL_FOLDER)
        pretrain = self._stand_in_dir("pretrain")
        if pretrain is not None:
            components = self._pretrained_components(pretrain)
            torch.manual_seed(seed + 1)
            return build_trainee(method, self.model_config, components)
        if previous is not None:
            components = self._components()
            torch.manual_seed(seed + 1)
            return build_trainee(method, self.model_config, components)
        init = self.config.model.init
        torch.manual_seed(seed + 1)
        if init == "random":
            return build_trainee(method, self.model_config, MotionFlowComponents.random(self.model_config))
        if init == "pretrained":
            return pretrained_trainee(method, self.model_config)
        model = load_trainee(method, init, self.config.model.init_config_overrides)
        model.set_generation_defaults(self.config.data.image_size, self.config.data.num_frames)
        return model

    @staticmethod
    def _trainable(model: nn.Module, phase: PhaseConfig) -> list[nn.Parameter]:
        if isinstance(model, (BackboneDenoiser, *CODEC_TRAINEES)):
            return model.trainable_parameters()
        return model.set_trainable_stage(1 if phase.name == "stage1" else 2)

    def _parameter_groups(
        self, model: nn.Module, phase: PhaseConfig, parameters: list[nn.Parameter]
    ) -> list[dict[str, Any]]:
        """The optimizer's groups, each with its `lr_scale` of the phase's rate: in stage 2 with
        `optim.new_module_lr_scale`, the method's new modules (its stage-1 parameters) and the rest."""
        scale = self.config.optim.new_module_lr_scale
        if phase.name != "stage2" or scale == 1.0:
            return [{"params": parameters, "lr_scale": 1.0}]
        new_modules = {id(parameter) for parameter in model.stage_parameters(1)}
        groups = [
            {"params": [p for p in parameters if id(p) in new_modules], "lr_scale": scale},
            {"params": [p for p in parameters if id(p) not in new_modules], "lr_scale": 1.0},
        ]
        return [group for group in groups if group["params"]]

    def _save_phase_model(self, model: nn.Module, phase: PhaseConfig, progress: TrainingProgress) -> None:
        folder = self._phase_dir(phase) / MODEL_FOLDER
        if isinstance(model, AutoencoderTrainee):
            frames = torch.cat([self.items[index]["frames"] for index in range(CALIBRATION_CLIPS)])
            model.calibrate(frames_to_model_range(frames.to(self.accelerator.device)))
            model.save(folder)
        elif isinstance(model, BackboneDenoiser):
            model.save(folder)
        elif isinstance(model, DecoderTrainee):
            model.denoiser.save_pretrained(folder)
        else:
            model.save_pretrained(folder)
        atomic_write_json(
            folder / PHASE_MARKER, {"phase": phase.name, "steps": progress.step, "seconds": progress.seconds}
        )

    # ------------------------------------------------------------------ training

    def run(self, max_steps: int | None = None) -> TrainingResult:
        """Runs the phases not complete yet; with `max_steps`, stops (after a checkpoint) once this many
        optimizer steps were done in this call, to be continued with resume."""
        self._prepare_output()
        resume_points, write = self.resume_points(), self.accelerator.is_main_process
        losses = StepLog(self.out / LOSSES_FILE, LOSS_COLUMNS, resume_points, write)
        validation = (
            StepLog(self.out / VALIDATION_FILE, VALIDATION_COLUMNS, resume_points, write)
            if self.config.validation.every
            else None
        )
        budget = max_steps
        done = 0
        last_model: nn.Module | None = None
        for index, phase in enumerate(self.config.phases):
            if self._is_complete(phase):
                continue
            model, steps = self._run_phase(
                index, phase, losses, validation, None if budget is None else budget - done
            )
            done += steps
            if not self._is_complete(phase):
                return TrainingResult(self.out, None, done, complete=False)
            last_model = model.denoiser if isinstance(model, DecoderTrainee) else model
        final = self.out / MODEL_FOLDER
        if self.accelerator.is_main_process:
            self._write_summary(losses)
            if self.config.phases[-1].name not in STAND_IN_PHASES and (
                last_model is not None or not final.is_dir()
            ):
                model = last_model if last_model is not None else self._load_last_stage()
                save_trained(model, final)
        self.accelerator.wait_for_everyone()
        return TrainingResult(self.out, final if final.is_dir() else None, done, complete=True)

    def _load_last_stage(self) -> VideoDenoiser:
        return load_trainee(self.config.model.method, self._phase_dir(self.config.phases[-1]) / MODEL_FOLDER)

    def _run_phase(
        self,
        index: int,
        phase: PhaseConfig,
        losses: StepLog,
        validation: StepLog | None,
        budget: int | None,
    ) -> tuple[nn.Module, int]:
        accelerator, optim = self.accelerator, self.config.optim
        phase_dir = self._phase_dir(phase)
        model = self.start_model(index).to(accelerator.device)
        # A phase's random streams are keyed by its name, not its position in the config: stage 1 sees
        # the same data and noise whether the stand-in phases ran in this run or in a base run.
        stream = PHASE_NAMES.index(phase.name)
        parameters = self._trainable(model, phase)
        optimizer = torch.optim.Adam(
            self._parameter_groups(model, phase, parameters),
            lr=phase.learning_rate,
            betas=optim.adam_betas,
            eps=optim.adam_epsilon,
            weight_decay=optim.weight_decay,
        )
        ema = (
            ParameterAverage(parameters, optim.ema_decay)
            if optim.ema_decay and not isinstance(model, CODEC_TRAINEES)
            else None
        )
        progress = TrainingProgress(step=0, seconds=0.0)
        folders = checkpoint_folders(phase_dir)
        if self.resume and folders:
            progress = load_checkpoint(
                folders[-1], model, optimizer, ema=None if ema is None else ema.average
            )
            if ema is not None:
                ema.to(accelerator.device)
        model.train()
        wrapped, optimizer = accelerator.prepare(model, optimizer)
        end_step = phase.steps if budget is None else min(phase.steps, progress.step + max(budget, 0))
        sampler = StepSampler(
            len(self.items),
            optim.batch_size,
            seed=(self.config.seed, stream),
            start_step=progress.step,
            end_step=end_step,
            rank=accelerator.process_index,
            world_size=accelerator.num_processes,
        )
        data = self.config.data
        loader = DataLoader(
            self._phase_items(model),
            batch_size=optim.batch_size,
            sampler=sampler,
            num_workers=data.num_workers if data.loader_workers is None else data.loader_workers,
            worker_init_fn=_single_thread_worker,
            pin_memory=accelerator.device.type == "cuda",
        )
        step, started, steps_done = progress.step, time.monotonic(), 0
        validates = validation is not None and not isinstance(model, CODEC_TRAINEES)
        if validates and step == 0:
            self._validate(model, phase, step, validation, ema)
        with _progress_bar(self.show_progress) as bar:
            task = bar.add_task(phase.name, total=phase.steps, completed=step, loss="-")
            for batch in loader:
                learning_rate = phase.learning_rate_at(step)
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate * group.get("lr_scale", 1.0)
                loss, grad_norm = self._step(wrapped, optimizer, parameters, batch, stream, step)
                if ema is not None:
                    ema.update()
                step += 1
                steps_done += 1
                seconds = progress.seconds + time.monotonic() - started
                losses.add(
                    phase.name,
                    step,
                    {
                        "loss": loss,
                        "learning_rate": learning_rate,
                        "grad_norm": grad_norm,
                        "seconds": seconds,
                    },
                )
                bar.update(task, completed=step, loss=f"{loss:.4f}")
                current = TrainingProgress(step=step, seconds=seconds)
                if validates and (step % self.config.validation.every == 0 or step == phase.steps):
                    self._validate(model, phase, step, validation, ema)
                if step % optim.checkpoint_every == 0 or step == end_step:
                    self._checkpoint(model, optimizer, phase_dir, current, ema)
        if step == phase.steps and ema is not None:
            ema.copy_to_parameters()
        if step == phase.steps and accelerator.is_main_process:
            self._save_phase_model(
                model, phase, TrainingProgress(step, progress.seconds + time.monotonic() - started)
            )
        accelerator.wait_for_everyone()
        return model, steps_done

    @cached_property
    def depth_net(self) -> DepthNet:
        """The bundled depth network, for a model conditioned on depth-warped frames."""
        return load_depth_net(device=str(self.accelerator.device))

    def _frame_latents_depth(self, model: nn.Module) -> DepthNet | None:
        return self.depth_net if getattr(model, "takes_frame_latents", False) else None

    def _phase_items(self, model: nn.Module) -> ClipItems:
        """The clips, with their latents under the model's frozen codec where `data.cache_latents` asks
        (and the depth-warped frames' latents a model conditioned on them needs, which come from there)."""
        depth_net = self._frame_latents_depth(model)
        if depth_net is not None and not self.config.data.cache_latents:
            raise TrainingError(
                "a model conditioned on depth-warped frames reads them from the latent cache: set data.cache_latents"
            )
        if self.config.data.cache_latents and not isinstance(model, CODEC_TRAINEES):
            depth_hash = depth_weights_hash() if depth_net is not None else ""
            return LatentClipItems(self.items, model, self.show_progress, depth_net, depth_hash)
        return self.items

    def _step(
        self,
        wrapped: nn.Module,
        optimizer: torch.optim.Optimizer,
        parameters: list[nn.Parameter],
        batch: dict[str, torch.Tensor],
        stream: int,
        step: int,
    ) -> tuple[float, float]:
        accelerator, optim = self.accelerator, self.config.optim
        model = accelerator.unwrap_model(wrapped)
        camera_kind = None if isinstance(model, CODEC_TRAINEES) else model.camera_input_kind
        frames, camera = batch_inputs(batch, accelerator.device, camera_kind)
        generator = step_generator(self.config.seed, stream, step, accelerator.process_index)
        with accelerator.autocast():
            if isinstance(model, CODEC_TRAINEES):
                loss = wrapped(frames, generator)
            else:
                latents = (
                    batch["latents"].to(accelerator.device, non_blocking=True)
                    if "latents" in batch
                    else model.encode_video(frames)
                )
                loss = epsilon_loss(
                    wrapped,
                    latents,
                    frames[:, 0],
                    camera,
                    self.scheduler,
                    generator,
                    optim.drop_image_probability,
                    optim.drop_camera_probability,
                    optim.loss_weighting,
                    optim.min_snr_gamma,
                    optim.timestep_power,
                    batch["frame_latents"].to(accelerator.device) if "frame_latents" in batch else None,
                    optim.timestep_limit,
                )
        accelerator.backward(loss)
        grad_norm = accelerator.clip_grad_norm_(parameters, optim.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        mean_loss = accelerator.gather(loss.detach().reshape(1)).mean().item()
        return mean_loss, float(grad_norm)

    def _checkpoint(
        self,
        model: nn.Module,
        optimizer: Any,
        phase_dir: Path,
        progress: TrainingProgress,
        ema: ParameterAverage | None,
    ) -> None:
        if self.accelerator.is_main_process:
            raw_optimizer = getattr(optimizer, "optimizer", optimizer)
            save_checkpoint(
                phase_dir / f"{CHECKPOINT_PREFIX}{progress.step}",
                model,
                raw_optimizer,
                progress,
                None if ema is None else ema.average,
            )
            prune_checkpoints(phase_dir, self.config.optim.keep_checkpoints)
        self.accelerator.wait_for_everyone()

    def _validate(
        self, model: nn.Module, phase: PhaseConfig, step: int, log: StepLog, ema: ParameterAverage | None
    ) -> None:
        """Condition use on the held-out batch, with the EMA's weights where the run keeps one (main
        process; it draws from its own generator, so the training's random streams and parameters are
        the same with and without validation)."""
        if self.accelerator.is_main_process:
            with nullcontext() if ema is None else ema.swapped_in():
                rows = measure_condition_use(
                    model,
                    self.validation_batch,
                    self.config.validation.timesteps,
                    seed=self.config.seed,
                    depth_estimator=self._frame_latents_depth(model),
                )
            for row in rows:
                values = row.as_dict()
                labels = {"condition": values.pop("condition"), "timestep": str(values.pop("timestep"))}
                log.add(phase.name, step, values, labels)
            model.train()
        self.accelerator.wait_for_everyone()

    def _write_summary(self, log: StepLog) -> None:
        phases = {}
        for phase in self.config.phases:
            marker = json.loads((self._phase_dir(phase) / MODEL_FOLDER / PHASE_MARKER).read_text())
            losses = log.read(phase.name, "loss")
            tail = losses[-SUMMARY_WINDOW:]
            phases[phase.name] = {
                "steps": marker["steps"],
                "seconds": round(marker["seconds"], 1),
                "learning_rate": phase.learning_rate,
                "first_loss_mean": sum(losses[:SUMMARY_WINDOW]) / max(len(losses[:SUMMARY_WINDOW]), 1),
                "last_loss_mean": sum(tail) / max(len(tail), 1),
            }
        device = self.accelerator.device
        atomic_write_json(
            self.out / SUMMARY_FILE,
            {
                "name": self.config.name,
                "seed": self.config.seed,
                "phases": phases,
                "total_seconds": round(sum(item["seconds"] for item in phases.values()), 1),
                "hardware": {
                    "device": torch.cuda.get_device_name(device)
                    if device.type == "cuda"
                    else cpu_model_name(),
                    "processes": self.accelerator.num_processes,
                    "torch_threads": torch.get_num_threads(),
                    "torch": torch.__version__,
                },
            },
        )


def train(
    config: TrainingConfig,
    out: str | Path,
    resume: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
) -> TrainingResult:
    """Trains (or continues, with resume) the run `config` describes into `out`."""
    return Trainer(config, out, resume=resume, progress=progress).run(max_steps=max_steps)
