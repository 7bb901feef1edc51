"""Training configuration: every setting of a run, read from a TOML or JSON file, with the seed.

A run is a sequence of phases. `autoencoder` and `pretrain` stand in for the paper's pretrained SD1.5
and AnimateDiff weights: the first trains the small VAE (configs with a VAE latent codec), the second
the video backbone (spatial UNet + motion modules) as an image-conditioned video denoiser. `stage1`
and `stage2` are the two stages of Section 3.6. `decoder` fine-tunes the VAE's decoder of the trained
model with its encoder frozen (not in the paper; see `motionflow.training.backbone.DecoderTrainee`).

A config file may start from another (`extends = "<name or path>"`): its tables are merged into the
other's, key by key; lists (the phases) replace the other's."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

import tomllib

from motionflow.models.config import MotionFlowConfig

PhaseName = Literal["autoencoder", "pretrain", "stage1", "stage2", "decoder"]
PHASE_NAMES: tuple[str, ...] = ("autoencoder", "pretrain", "stage1", "stage2", "decoder")
STAND_IN_PHASES = ("autoencoder", "pretrain")
TRAINING_CONFIG_FILE = "training_config.json"
"""Where a run (and each bundled checkpoint) records every setting it was trained with."""
CONFIG_SUFFIXES = (".toml", ".json")
NUM_TRAIN_TIMESTEPS = 1000
"""Length of the noise schedule every model trains on (`motionflow.pipeline.noise_schedule_config`)."""
DIAGNOSTIC_TIMESTEPS = (200, 500, 800)
"""Timesteps at which the condition-use diagnostics noise held-out clips."""
HELD_OUT_SEED_OFFSET = 500
"""Synthetic scene seeds of held-out clips: 500 on, below the training clips' default 1000 and apart from
the evaluation suites' lowest seeds."""
CONFIGS_FOLDER = "configs"


LearningRateDecay = Literal["constant", "cosine", "linear"]
LEARNING_RATE_DECAYS: tuple[str, ...] = get_args(LearningRateDecay)


@dataclass(frozen=True)
class PhaseConfig:
    """One phase: `steps` optimizer steps of Adam at `learning_rate`, reached linearly over
    `warmup_steps`, then held ("constant") or lowered to `final_learning_rate` at the phase's last step
    along a half cosine or a line. A decaying rate lets a continued run settle instead of wandering
    between checkpoints at its full rate."""

    name: PhaseName
    steps: int
    learning_rate: float
    warmup_steps: int = 0
    decay: LearningRateDecay = "constant"
    final_learning_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in PHASE_NAMES:
            raise ValueError(f"phase name must be one of {', '.join(PHASE_NAMES)}, got {self.name!r}")
        if self.steps < 1 or self.learning_rate <= 0 or self.warmup_steps < 0:
            raise ValueError(f"phase {self.name}: steps >= 1, learning_rate > 0, warmup_steps >= 0 required")
        if self.decay not in LEARNING_RATE_DECAYS:
            raise ValueError(
                f"phase {self.name}: decay must be one of {', '.join(LEARNING_RATE_DECAYS)}, got {self.decay!r}"
            )
        if not 0 <= self.final_learning_rate <= self.learning_rate:
            raise ValueError(
                f"phase {self.name}: final_learning_rate must be in [0, learning_rate], got {self.final_learning_rate}"
            )
        if self.decay != "constant" and self.warmup_steps >= self.steps:
            raise ValueError(f"phase {self.name}: a decaying rate needs warmup_steps < steps")

    def learning_rate_at(self, step: int) -> float:
        """The rate of the optimizer step that takes the phase from `step` to `step + 1` steps done."""
        if step < self.warmup_steps:
            return self.learning_rate * (step + 1) / self.warmup_steps
        if self.decay == "constant":
            return self.learning_rate
        progress = (step + 1 - self.warmup_steps) / (self.steps - self.warmup_steps)
        remaining = 0.5 * (1 + math.cos(math.pi * progress)) if self.decay == "cosine" else 1 - progress
        return self.final_learning_rate + (self.learning_rate - self.final_learning_rate) * remaining


TRAINABLE_METHODS = ("motionflow", "cameractrl", "cameractrl+ic", "motionctrl", "animatediff")
"""What the trainer trains: MotionFlow (and its ablations, through `overrides`) and the baselines that
share its AnimateDiff backbone (baselines.backbone.BASELINE_METHODS)."""


@dataclass(frozen=True)
class ModelSettings:
    """`method` on the `preset` backbone ("small" or "full") with keyword `overrides` of
    MotionFlowConfig.small / .full (a baseline uses them for its backbone).

    `init`: "random" (components built from the seed; the pretrain phase stands in for pretrained
    weights), "pretrained" (the local SD1.5 / AnimateDiff / DINO / CLIP folders, see
    `MotionFlowModel.from_pretrained_components`) or the path of a checkpoint folder of `method` (its
    weights and architecture; the run's model generates at the run's `data.image_size` and `num_frames`).
    `init_overrides`: fields of that MotionFlow checkpoint's saved config to replace, switches that change
    no weights (`overrides` are the preset's arguments for a model built anew).
    `base`: instead, the folder of a training run whose `autoencoder` and `pretrain` phases are complete:
    its VAE and backbone are the pretrained weights every method trained on it starts from, so
    methods compared at equal budget share them.
    `autoencoder`: instead of an autoencoder phase, an existing VAE: "bundled" (the codec of the bundled
    checkpoints, `motionflow.checkpoints.bundle.bundled_vae`) or the folder of a diffusers AutoencoderKL
    (or of a run's autoencoder phase). The run stores it as its completed autoencoder phase, so methods
    on it as `model.base` find it there; a run with `model.base` uses the base's VAE."""

    method: str = "motionflow"
    preset: Literal["small", "full"] = "small"
    init: str = "random"
    base: str = ""
    autoencoder: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    init_overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in TRAINABLE_METHODS:
            raise ValueError(
                f"model method must be one of {', '.join(TRAINABLE_METHODS)}, got {self.method!r}"
            )
        if self.base and self.init != "random":
            raise ValueError("model.base and model.init are exclusive: the base run's weights are the init")
        if self.init_overrides and self.init in ("random", "pretrained"):
            raise ValueError(
                "model.init_overrides change a checkpoint's config: model.init must be its folder"
            )
        if self.init_overrides and self.method != "motionflow":
            raise ValueError(f"model.init_overrides apply to MotionFlow checkpoints, not {self.method}")
        unknown = sorted(set(self.init_overrides) - {item.name for item in fields(MotionFlowConfig)})
        if unknown:
            raise ValueError(f"model.init_overrides: {', '.join(unknown)} not MotionFlowConfig fields")

    def build_config(self) -> MotionFlowConfig:
        if self.preset not in ("small", "full"):
            raise ValueError(f"model preset must be 'small' or 'full', got {self.preset!r}")
        factory = MotionFlowConfig.small if self.preset == "small" else MotionFlowConfig.full
        return factory(**_as_config_values(self.overrides))

    @property
    def init_config_overrides(self) -> dict[str, Any]:
        return _as_config_values(self.init_overrides)


def _as_config_values(values: dict[str, Any]) -> dict[str, Any]:
    """TOML values as MotionFlowConfig takes them (lists as tuples)."""
    return {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}


MOTION_MIRRORS: tuple[tuple[bool, bool], ...] = ((False, False), (True, False), (False, True), (True, True))
"""(flip_x, flip_z) of `DataSettings.motion_variants` 0 to 3."""


@dataclass(frozen=True)
class DataSettings:
    """Where clips come from and how they are sampled.

    source "synthetic": scenes rendered on the fly, clip i with seed `seed_offset + i` (held-out
    evaluation clips use seeds below `seed_offset`); `root`: a dataset folder in RealEstate10K or DL3DV
    layout (a built synthetic dataset is one), `split` of it. `sampling`: the paper's trajectory sets
    drawn per clip (basic: every 8th frame from a random start; difficult: the largest stride)."""

    source: Literal["synthetic", "folder"] = "synthetic"
    root: str = ""
    split: str = "train"
    image_size: tuple[int, int] = (128, 128)
    num_frames: int = 16
    sampling: tuple[str, ...] = ("basic", "difficult")
    scenes: tuple[str, ...] = ("indoor", "outdoor")
    path_weights: dict[str, float] = field(
        default_factory=lambda: {"re10k": 0.6, "forward": 0.1, "sideways": 0.1, "orbit": 0.1, "rotation": 0.1}
    )
    source_frames: int = 200
    seed_offset: int = 1000
    num_clips: int = 100_000
    num_workers: int = 1
    """Processes that render or decode clips (into the cache when there is one)."""
    loader_workers: int | None = None
    """DataLoader processes per training process; None: `num_workers`. Cached clips are cheap to read,
    so a few suffice where `num_workers` processes filled the cache."""
    cache: str = ""
    """A folder for the clip cache (motionflow.training.data.CachedClipItems); empty: no cache."""
    cache_latents: bool = False
    """Encode each cached clip once with the frozen codec and train on the stored latents
    (motionflow.training.latent_cache); needs `cache`."""
    motion_variants: int = 1
    """Synthetic source: clips per scene, start frame and sampling, 1 to 4. Variant k replays the sampled
    camera motion unchanged (k = 0), mirrored left-right (1), forward-backward (2) or both (3), from the
    same first camera: the clips share their reference image, so only the cameras tell their motion
    apart (`Trajectory.mirrored_motion`). num_clips counts every variant."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_size", tuple(int(value) for value in self.image_size))
        object.__setattr__(self, "sampling", tuple(self.sampling))
        object.__setattr__(self, "scenes", tuple(self.scenes))
        if self.source not in ("synthetic", "folder"):
            raise ValueError(f"data source must be 'synthetic' or 'folder', got {self.source!r}")
        if self.source == "folder" and not self.root:
            raise ValueError("data source 'folder' needs data.root")
        if self.num_frames < 2:
            raise ValueError(f"data.num_frames must be at least 2, got {self.num_frames}")
        if not 1 <= self.motion_variants <= len(MOTION_MIRRORS):
            raise ValueError(
                f"data.motion_variants must be 1 to {len(MOTION_MIRRORS)}, got {self.motion_variants}"
            )
        if self.cache_latents and not self.cache:
            raise ValueError(
                "data.cache_latents needs data.cache (the latents are stored with the clip cache)"
            )
        if self.source == "folder" and self.motion_variants != 1:
            raise ValueError(
                "data.motion_variants needs the synthetic source (it renders the mirrored motions)"
            )


LossWeighting = Literal["none", "min_snr", "v"]
LOSS_WEIGHTINGS: tuple[str, ...] = get_args(LossWeighting)
"""`OptimSettings.loss_weighting` values (`motionflow.training.losses.timestep_weights`)."""


@dataclass(frozen=True)
class OptimSettings:
    """Batch per process, condition dropout for classifier-free guidance, gradient clipping, precision."""

    batch_size: int = 1
    drop_image_probability: float = 0.1
    drop_camera_probability: float = 0.1
    max_grad_norm: float = 1.0
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_epsilon: float = 1e-8
    weight_decay: float = 0.0
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    """Applies on GPUs only; a CPU run always trains in float32."""
    checkpoint_every: int = 50
    keep_checkpoints: int = 2
    cpu_threads: int = 0
    """torch CPU threads of each training process (0: torch's default). One is fastest on a busy CPU,
    and enough where several runs share a GPU (their CPU work is launching kernels)."""
    autoencoder_frames: int = 8
    """Frames the autoencoder and decoder phases reconstruct per step (drawn at random from the batch)."""
    autoencoder_kl_weight: float = 1e-6
    loss_weighting: LossWeighting = "none"
    """Per-timestep weight of the denoising loss (`motionflow.training.losses.timestep_weights`)."""
    min_snr_gamma: float = 5.0
    timestep_power: float = 1.0
    """Training timesteps t = T u^(1 / p), u uniform: density proportional to t^(p - 1). 1: uniform, the
    paper's; 2: the high-noise steps, where the camera decides the layout, drawn more often
    (`motionflow.training.losses.sample_timesteps`)."""
    timestep_limit: int | None = None
    """Training timesteps are drawn below this (None: the whole schedule). A model sampled from a late
    start only runs the steps below it (25 steps at strength 0.4 start at t = 361), so it can be
    fine-tuned on those alone."""

    ema_decay: float = 0.0
    """The diffusion phases keep an exponential moving average of the trained weights with this decay
    (diffusers' EMAModel, whose decay warms up as (1 + n) / (10 + n)); validation and each phase's
    saved model use the average. 0: none, the weights as last updated."""

    new_module_lr_scale: float = 1.0
    """Stage 2: the learning rate of the parameters stage 1 trains (each method's new modules: MotionFlow's
    camera path, reference and object attention, semantic encoder; a baseline's camera encoder) as a
    multiple of the phase's rate, the rest of the network at the phase's rate. 1: one rate for all, the
    paper's."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "adam_betas", tuple(self.adam_betas))
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"optim.ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.new_module_lr_scale <= 0:
            raise ValueError(f"optim.new_module_lr_scale must be positive, got {self.new_module_lr_scale}")
        if self.timestep_power <= 0:
            raise ValueError(f"optim.timestep_power must be positive, got {self.timestep_power}")
        if self.timestep_limit is not None and not 1 <= self.timestep_limit <= NUM_TRAIN_TIMESTEPS:
            raise ValueError(
                f"optim.timestep_limit must be in 1..{NUM_TRAIN_TIMESTEPS}, got {self.timestep_limit}"
            )
        if self.loss_weighting not in LOSS_WEIGHTINGS:
            raise ValueError(
                f"optim.loss_weighting must be one of {', '.join(LOSS_WEIGHTINGS)}, got {self.loss_weighting!r}"
            )
        if self.batch_size < 1 or self.checkpoint_every < 1 or self.keep_checkpoints < 1:
            raise ValueError("batch_size, checkpoint_every and keep_checkpoints must be >= 1")


@dataclass(frozen=True)
class ValidationSettings:
    """Held-out checks while the diffusion phases train: every `every` optimizer steps (0: never) and at
    each phase's end, `motionflow.training.condition_use` on `clips` clips no training step sees (synthetic
    source: scenes from HELD_OUT_SEED_OFFSET on; a dataset folder: its `split`), written to validation.csv:
    the held-out epsilon loss and how much it rises under another clip's reference image and cameras."""

    every: int = 0
    clips: int = 4
    split: str = "test"
    timesteps: tuple[int, ...] = DIAGNOSTIC_TIMESTEPS

    def __post_init__(self) -> None:
        object.__setattr__(self, "timesteps", tuple(int(value) for value in self.timesteps))
        if self.every < 0 or self.clips < 2:
            raise ValueError(
                "validation.every must be >= 0 and validation.clips >= 2 (one's conditions are tried on another)"
            )
        if not self.timesteps or not all(0 <= value < NUM_TRAIN_TIMESTEPS for value in self.timesteps):
            raise ValueError(
                f"validation.timesteps must be training timesteps 0-999, got {list(self.timesteps)}"
            )


@dataclass(frozen=True)
class TrainingConfig:
    name: str
    seed: int
    phases: tuple[PhaseConfig, ...]
    model: ModelSettings = field(default_factory=ModelSettings)
    data: DataSettings = field(default_factory=DataSettings)
    optim: OptimSettings = field(default_factory=OptimSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)

    def __post_init__(self) -> None:
        names = [phase.name for phase in self.phases]
        if not names:
            raise ValueError("a training config needs at least one phase")
        if names != sorted(names, key=PHASE_NAMES.index) or len(set(names)) != len(names):
            raise ValueError(f"phases must be distinct and in the order {PHASE_NAMES}, got {names}")
        stand_ins = [name for name in names if name in STAND_IN_PHASES]
        if stand_ins and (self.model.init != "random" or self.model.base):
            raise ValueError(
                f"{stand_ins[0]} stands in for pretrained weights: it needs model.init = 'random' and no model.base"
            )
        if "pretrain" in names and self.model.method != "motionflow":
            raise ValueError(
                "the pretrain phase trains the shared backbone: run it with model.method = 'motionflow'"
            )
        if "autoencoder" in names and self.model.autoencoder:
            raise ValueError("model.autoencoder replaces the autoencoder phase: give one or the other")
        codec_phase = next((name for name in names if name in ("autoencoder", "decoder")), None)
        if (codec_phase or self.model.autoencoder) and self.model.build_config().latent_codec[
            "type"
        ] != "vae":
            raise ValueError(
                f"the {codec_phase or 'autoencoder'} phase needs a VAE latent codec "
                "(model.overrides.latent_codec = 'vae')"
            )
        data, validation = self.data, self.validation
        training_scenes = -(-data.num_clips // data.motion_variants)
        overlap = max(data.seed_offset, HELD_OUT_SEED_OFFSET) < min(
            data.seed_offset + training_scenes, HELD_OUT_SEED_OFFSET + validation.clips
        )
        if validation.every and data.source == "synthetic" and overlap:
            raise ValueError(
                f"validation scenes {HELD_OUT_SEED_OFFSET}-{HELD_OUT_SEED_OFFSET + validation.clips - 1} are "
                f"training scenes (data.seed_offset {data.seed_offset}): move data.seed_offset"
            )

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingConfig:
        values = dict(values)
        _reject_unknown(cls, values, "training config")
        phases = tuple(_build(PhaseConfig, item, "phase") for item in values.pop("phases", ()))
        sections = {
            key: _build(kind, values.pop(key), key)
            for key, kind in (
                ("model", ModelSettings),
                ("data", DataSettings),
                ("optim", OptimSettings),
                ("validation", ValidationSettings),
            )
            if key in values
        }
        return cls(phases=phases, **sections, **values)


def _reject_unknown(kind: type, values: dict[str, Any], what: str) -> None:
    unknown = sorted(set(values) - {item.name for item in fields(kind)})
    if unknown:
        raise ValueError(f"unknown {what} settings: {', '.join(unknown)}")


def _build(kind: type, values: dict[str, Any], what: str) -> Any:
    _reject_unknown(kind, values, what)
    return kind(**values)


def config_search_folders() -> list[Path]:
    """Where config names are looked up: ./configs, then the repository's configs folder."""
    return [Path.cwd() / CONFIGS_FOLDER, Path(__file__).resolve().parents[2] / CONFIGS_FOLDER]


def resolve_config_path(name_or_path: str | Path, first_folder: Path | None = None) -> Path:
    """A config file path, or a name looked up as <name>.toml / <name>.json in `first_folder` (the
    folder of a config that extends it), then `config_search_folders()`."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    folders = ([first_folder] if first_folder is not None else []) + config_search_folders()
    candidates = [folder / f"{name_or_path}{suffix}" for folder in folders for suffix in CONFIG_SUFFIXES]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"training config {str(name_or_path)!r} not found: not a file, and none of "
        + ", ".join(str(candidate) for candidate in candidates)
    )


def merge_settings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` merged into `base`: tables key by key (recursively), every other value replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_settings(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_settings(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The settings of a config file with those of the configs it extends merged in."""
    if path.resolve() in chain:
        cycle = " -> ".join(str(item) for item in (*chain, path.resolve()))
        raise ValueError(f"configs extend each other in a cycle: {cycle}")
    text = path.read_text()
    try:
        values = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not valid {path.suffix[1:].upper()}: {error}") from None
    parent = values.pop("extends", None)
    if parent is None:
        return values
    parent_path = resolve_config_path(parent, first_folder=path.parent)
    return merge_settings(_read_settings(parent_path, (*chain, path.resolve())), values)


def load_training_config(name_or_path: str | Path) -> TrainingConfig:
    path = resolve_config_path(name_or_path)
    values = _read_settings(path)
    try:
        return TrainingConfig.from_dict(values)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None


def trained_method(folder: str | Path) -> str:
    """The method a checkpoint folder was trained as, from the training config in it (a bundled
    checkpoint) or beside it (a run's `model` folder); FileNotFoundError when neither holds one."""
    folder = Path(folder)
    for candidate in (folder / TRAINING_CONFIG_FILE, folder.parent / TRAINING_CONFIG_FILE):
        if candidate.is_file():
            return json.loads(candidate.read_text())["model"]["method"]
    raise FileNotFoundError(f"{folder}: no {TRAINING_CONFIG_FILE} in it or beside it names its method")
