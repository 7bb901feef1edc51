"""Suites: which clips (sources x counts x trajectory sets), methods, estimators and metrics a run covers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from baselines.motionflow_method import DEPTH_CONDITION, RAY_BIAS
from motionflow.pipeline import SamplingOptions
from motionflow.utils.registry import Registry

SAMPLING_SETTINGS = tuple(item.name for item in fields(SamplingOptions))


@dataclass(frozen=True)
class SourceSpec:
    """`count` clips of a clip source; `image_size` (H, W) for sources that render or resize, None = native."""

    source: str
    count: int
    image_size: tuple[int, int] | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    sources: tuple[SourceSpec, ...]
    methods: tuple[str, ...]
    estimators: tuple[str, ...] = ("colmap",)
    trajectory_sets: tuple[str, ...] = ("basic", "difficult")
    num_frames: int = 16
    trials: int = 1
    seed: int = 0
    camera_preset: str = "motionflow"
    paired_metrics: tuple[str, ...] = ("psnr", "ssim", "lpips")
    set_metrics: tuple[str, ...] = ("fid", "kid", "fvd")
    settings: dict = field(default_factory=dict)
    checkpoints: dict[str, str] = field(default_factory=dict)
    """Method name -> the checkpoint folder it runs instead of its default weights (a trained run's model)."""
    sampling: dict[str, Any] = field(default_factory=dict)
    """Sampler settings (`motionflow.pipeline.SamplingOptions` fields) for every method that samples, in
    place of each one's own; the other methods pass them over."""

    def __post_init__(self) -> None:
        strays = sorted(set(self.checkpoints) - set(self.methods))
        if strays:
            raise ValueError(f"checkpoints given for methods the suite does not run: {', '.join(strays)}")
        unknown = sorted(set(self.sampling) - set(SAMPLING_SETTINGS))
        if unknown:
            raise ValueError(
                f"unknown sampler settings {', '.join(unknown)}; known: {', '.join(SAMPLING_SETTINGS)}"
            )
        SamplingOptions(**self.sampling)

    def with_overrides(self, **overrides) -> Suite:
        """A copy with the given fields replaced (None values are ignored)."""
        return replace(self, **{key: value for key, value in overrides.items() if value is not None})

    def to_dict(self) -> dict:
        return asdict(self)


SUITES: Registry[Suite] = Registry("suite")

REFERENCE_ROWS = ("oracle", "static", "warp", "depth-warp")
"""Rows that need no downloaded weights: the pose estimator's floor, no motion, the rotation-only warp,
the warp through the bundled depth network's estimate."""
BUNDLED_REFERENCE_ROWS = ("oracle", "autoencoder", "static", "warp", "depth-warp")
"""With the bundled checkpoints: also the ground truth through their latent codec, their ceiling."""
BUNDLED_METHODS = (
    "motionflow",
    "motionflow-no-refnet",
    "motionflow-no-semantic",
    "motionflow-no-sd-init",
    "cameractrl",
    "cameractrl+ic",
    "motionctrl",
    "animatediff",
)
"""The methods with a checkpoint in the package (motionflow/checkpoints) at one budget: every row of
Tables 1-4 on a CPU."""

SUITES.register("smoke")(
    Suite(
        name="smoke",
        description="The embedded defaults end to end on 2 CPU cores in a few minutes: the bundled MotionFlow-small "
        "and the reference rows on synthetic indoor and outdoor scenes with exact cameras and two bundled "
        "RealEstate10K clips, COLMAP, no-weights metrics.",
        sources=(
            SourceSpec("synthetic-indoor", 2, (256, 256)),
            SourceSpec("synthetic-outdoor", 1, (256, 256)),
            SourceSpec("re10k-bundled", 2),
        ),
        methods=("motionflow", *BUNDLED_REFERENCE_ROWS),
    )
)

SUITES.register("standard")(
    Suite(
        name="standard",
        description="Every bundled method (MotionFlow-small, its Table 4 ablations, the small baselines, the "
        "ray-bias MotionFlow-small and its fine-tuning on depth-warped frames) and the reference rows on more clips of every embedded source (8 indoor and "
        "8 outdoor synthetic scenes, basic and difficult; all six bundled RealEstate10K clips); COLMAP.",
        sources=(
            SourceSpec("synthetic-indoor", 8, (256, 256)),
            SourceSpec("synthetic-outdoor", 8, (256, 256)),
            SourceSpec("re10k-bundled", 6),
        ),
        methods=(*BUNDLED_METHODS, RAY_BIAS.name, DEPTH_CONDITION.name, *BUNDLED_REFERENCE_ROWS),
    )
)

SUITES.register("paper")(
    Suite(
        name="paper",
        description="The paper's protocol on real data: RealEstate10K test clips ($MFBENCH_RE10K_ROOT) and DL3DV "
        "($MFBENCH_DL3DV_ROOT), basic and difficult trajectories, Dust3R / VGGSfM / ParticleSfM, every method. "
        "Needs the datasets, the pretrained weights and the estimators' environments; what is missing is "
        "reported as not computed. The paper states no sample count: 200 clips per dataset.",
        sources=(SourceSpec("re10k-test", 200, (256, 384)), SourceSpec("dl3dv-test", 200, (256, 384))),
        methods=(
            "motionflow",
            "cameractrl",
            "motionctrl",
            "animatediff",
            "videocrafter",
            "dynamicrafter",
            "cameractrl+ic",
            *REFERENCE_ROWS,
        ),
        estimators=("dust3r", "vggsfm", "particlesfm"),
    )
)
