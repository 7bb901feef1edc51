"""DUSt3R (Wang et al., CVPR 2024), in this process, with a checkpoint read from a local path.

The `dust3r` package comes from a checkout of github.com/naver/dust3r (setting `dust3r.dir`), else an
installed `dust3r`, else the PyPI package `mini-dust3r` (same modules under `mini_dust3r`; install it
with `pip install --no-deps mini-dust3r roma einops jaxtyping beartype opencv-python-headless`, since
its declared dependencies pull in gradio and rerun). Both are CC BY-NC-SA 4.0 (non-commercial).

Pipeline, as in DUSt3R's demo: frames -> PNG -> the package's `load_images` (long side resized to
512 and cropped to multiples of 16, or short side to 224 and a centre square) -> pairs (a
non-cyclic sliding window of `window` neighbours, or the complete graph; both directions) ->
pairwise inference -> global alignment (PointCloudOptimizer, minimum-spanning-tree init) ->
camera-to-world poses (OpenCV axes, DUSt3R's own convention, so no conversion) and one focal length
per frame with the principal point at the centre of the processed image. Intrinsics are mapped back
to pixels of the input frames (undoing the crop, then the resize). With known intrinsics the focal
length (mean of fx and fy in processed pixels) is fixed.

DUSt3R never reports a failure itself: every frame always gets a pose. This adapter flags non-finite
output and implausible focal lengths; a wrong but finite answer cannot be detected here (the
`oracle` row on ground-truth videos shows the estimator's error floor)."""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, ClassVar, Literal

import numpy as np

from bench.sfm_adapters.base import (
    ESTIMATORS,
    EstimatorSettings,
    PoseEstimate,
    PoseEstimator,
    assemble_estimate,
    unavailable,
)
from bench.sfm_adapters.external import auto_device, require_checkpoint
from bench.sfm_adapters.settings import describe_setting, external_setting
from motionflow.camera.intrinsics import scale_intrinsics
from motionflow.data.video_io import write_frames

CHECKPOINT_SOURCE = (
    "DUSt3R_ViTLarge_BaseDecoder_512_dpt.pth from https://github.com/naver/dust3r#checkpoints "
    "(or the Hugging Face model naver/DUSt3R_ViTLarge_BaseDecoder_512_dpt as a folder)"
)
PACKAGE_SOURCE = "a checkout of https://github.com/naver/dust3r, or `pip install --no-deps mini-dust3r`"
PATCH_SIZE = 16


@dataclass(frozen=True)
class Dust3rSettings(EstimatorSettings):
    checkpoint: str | None = None
    package_dir: str | None = None
    image_size: Literal[224, 512] = 512
    scene_graph: Literal["swin", "complete"] = "swin"
    window: int = 3
    """Neighbours on each side paired with a frame in the sliding window (non-cyclic)."""
    niter: int = 300
    lr: float = 0.01
    schedule: Literal["cosine", "linear"] = "cosine"
    batch_size: int = 8
    device: str = "auto"
    """"auto": CUDA when available, else CPU."""


def pair_indices(num_frames: int, scene_graph: str, window: int) -> list[tuple[int, int]]:
    """Ordered frame pairs, both directions: the complete graph, or a non-cyclic sliding window
    (i, j) with 0 < |i - j| <= window (DUSt3R's own "swin" closes the loop, which a video does not)."""
    if num_frames < 2:
        raise ValueError(f"DUSt3R needs at least 2 frames, got {num_frames}")
    if scene_graph == "complete":
        reach = num_frames - 1
    elif scene_graph == "swin":
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        reach = window
    else:
        raise ValueError(f"unknown scene graph {scene_graph!r}; expected swin or complete")
    forward = [(i, j) for i in range(num_frames) for j in range(i + 1, min(num_frames, i + reach + 1))]
    return forward + [(j, i) for i, j in forward]


def processing_geometry(
    image_size: tuple[int, int], size: int
) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """How DUSt3R's `load_images` maps a frame of (H, W): the resized size (H1, W1) and the crop
    (top, left, height, width) taken from it. Mirrors load_images for square_ok=False."""
    height, width = image_size
    if size == 224:
        long_edge = round(size * max(width / height, height / width))
    elif size == 512:
        long_edge = size
    else:
        raise ValueError(f"DUSt3R image size must be 224 or 512, got {size}")
    scale = long_edge / max(width, height)
    resized_w, resized_h = int(round(width * scale)), int(round(height * scale))
    center_x, center_y = resized_w // 2, resized_h // 2
    if size == 224:
        half = min(center_x, center_y)
        half_w = half_h = half
    else:
        half_w, half_h = ((2 * center_x) // PATCH_SIZE) * 8, ((2 * center_y) // PATCH_SIZE) * 8
        if resized_w == resized_h:
            half_h = int(3 * half_w / 4)
    crop = (center_y - half_h, center_x - half_w, 2 * half_h, 2 * half_w)
    return (resized_h, resized_w), crop


def intrinsics_to_frame(processed_k: np.ndarray, image_size: tuple[int, int], size: int) -> np.ndarray:
    """K [N, 3, 3] in pixels of DUSt3R's processed images -> pixels of the input frames."""
    resized, (top, left, _, _) = processing_geometry(image_size, size)
    uncropped = np.array(processed_k, dtype=np.float64, copy=True)
    uncropped[:, 0, 2] += left
    uncropped[:, 1, 2] += top
    return scale_intrinsics(uncropped, resized, image_size)


def focal_to_processed(intrinsics: np.ndarray, image_size: tuple[int, int], size: int) -> np.ndarray:
    """One focal length per frame in processed pixels (DUSt3R has fx = fy): the mean of fx and fy."""
    resized, _ = processing_geometry(image_size, size)
    scaled = scale_intrinsics(intrinsics, image_size, resized)
    return (scaled[:, 0, 0] + scaled[:, 1, 1]) / 2


def parse_model_constructor(text: str) -> tuple[str, dict[str, Any]]:
    """`AsymmetricCroCo3DStereo(pos_embed='RoPE100', img_size=(512, 512), ...)`, as stored in a DUSt3R
    checkpoint's args, -> (class name, keyword arguments), without eval: only literals and inf."""
    try:
        call = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"cannot parse the model description {text!r}: {error}") from None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.args:
        raise ValueError(f"expected ModelClass(keyword=value, ...), got {text!r}")
    return call.func.id, {keyword.arg: _literal(keyword.value) for keyword in call.keywords}


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Name) and node.id == "inf":
        return float("inf")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_literal(node.operand)
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_literal(element) for element in node.elts)
    if isinstance(node, ast.Constant):
        return node.value
    raise ValueError(f"unsupported value in the model description: {ast.unparse(node)}")


@ESTIMATORS.register("dust3r")
class Dust3rEstimator(PoseEstimator):
    name: ClassVar[str] = "dust3r"
    is_stochastic: ClassVar[bool] = False
    settings_type: ClassVar[type[EstimatorSettings]] = Dust3rSettings
    settings: Dust3rSettings

    def __init__(self, settings: EstimatorSettings | None = None):
        super().__init__(settings)
        self._model: Any = None
        self._package: SimpleNamespace | None = None

    @classmethod
    def default_settings(cls) -> Dust3rSettings:
        return Dust3rSettings(
            checkpoint=external_setting("dust3r", "checkpoint"), package_dir=external_setting("dust3r", "dir")
        )

    def check_available(self) -> None:
        self._modules()
        require_checkpoint(self.name, self.settings.checkpoint, CHECKPOINT_SOURCE)

    def _modules(self) -> SimpleNamespace:
        """The package's model, inference, pairing-free global alignment and image loading."""
        if self._package is None:
            root = _import_package(self.settings.package_dir)
            name = root.__name__
            try:
                modules = {
                    part: importlib.import_module(f"{name}.{part}")
                    for part in ("model", "inference", "cloud_opt")
                }
                modules["image"] = importlib.import_module(f"{name}.utils.image")
            except ImportError as error:
                raise unavailable(
                    self.name,
                    f"package {name} cannot be imported ({error})",
                    PACKAGE_SOURCE,
                    describe_setting("dust3r", "dir"),
                ) from None
            self._package = SimpleNamespace(name=name, **modules)
        return self._package

    def device(self) -> str:
        return auto_device(self.settings.device)

    def model(self) -> Any:
        if self._model is None:
            self.check_available()
            self._model = load_dust3r_model(
                Path(self.settings.checkpoint).expanduser(), self._modules().model
            )
            self._model.to(self.device()).eval()
        return self._model

    def _estimate(self, frames: np.ndarray, intrinsics: np.ndarray | None, seed: int) -> PoseEstimate:
        import torch

        torch.manual_seed(seed)
        package, model, device, size = self._modules(), self.model(), self.device(), self.settings.image_size
        image_size = (frames.shape[1], frames.shape[2])
        with tempfile.TemporaryDirectory(prefix="mfbench-dust3r-") as folder:
            write_frames(folder, frames)
            images = package.image.load_images(folder, size=size, verbose=False)
        pairs = [
            (images[i], images[j])
            for i, j in pair_indices(len(images), self.settings.scene_graph, self.settings.window)
        ]
        output = package.inference.inference(
            pairs, model, device, batch_size=self.settings.batch_size, verbose=False
        )
        scene = package.cloud_opt.global_aligner(
            output, device=device, mode=package.cloud_opt.GlobalAlignerMode.PointCloudOptimizer, verbose=False
        )
        if intrinsics is not None:
            scene.preset_focal([float(f) for f in focal_to_processed(intrinsics, image_size, size)])
        scene.compute_global_alignment(
            init="mst", niter=self.settings.niter, schedule=self.settings.schedule, lr=self.settings.lr
        )
        c2w = scene.get_im_poses().detach().cpu().double().numpy()
        processed_k = scene.get_intrinsics().detach().cpu().double().numpy()
        return dust3r_output_to_estimate(c2w, processed_k, image_size, size, intrinsics)


def dust3r_output_to_estimate(
    c2w: np.ndarray,
    processed_k: np.ndarray,
    image_size: tuple[int, int],
    size: int,
    fallback_intrinsics: np.ndarray | None = None,
) -> PoseEstimate:
    """DUSt3R's camera-to-world poses [N, 4, 4] and processed-image K [N, 3, 3] -> PoseEstimate.
    Frames with non-finite output are unregistered and named in the failure reason."""
    num_frames = len(c2w)
    frame_k = intrinsics_to_frame(
        np.nan_to_num(processed_k, nan=1.0, posinf=1.0, neginf=1.0), image_size, size
    )
    finite = [
        bool(np.all(np.isfinite(c2w[i])) and np.all(np.isfinite(processed_k[i]))) for i in range(num_frames)
    ]
    estimate = assemble_estimate(
        "dust3r",
        image_size,
        {i: c2w[i] for i in range(num_frames) if finite[i]},
        {i: frame_k[i] for i in range(num_frames) if finite[i]},
        num_frames,
        fallback_intrinsics=fallback_intrinsics,
        extra={"processed_image_size": list(processing_geometry(image_size, size)[1][2:])},
    )
    bad = [i for i in range(num_frames) if not finite[i]]
    if bad:
        estimate.failure_reason = (
            f"DUSt3R returned non-finite poses or focal lengths for {len(bad)} of {num_frames} frames "
            f"(frames {', '.join(map(str, bad))}): global alignment diverged"
        )
    return estimate


def _import_package(package_dir: str | None) -> ModuleType:
    """`dust3r` from package_dir (a checkout), else installed `dust3r`, else `mini_dust3r`."""
    if package_dir is not None:
        checkout = Path(package_dir).expanduser()
        if not (checkout / "dust3r" / "__init__.py").is_file():
            raise unavailable(
                "dust3r",
                f"{checkout} is not a dust3r checkout (no dust3r/__init__.py)",
                PACKAGE_SOURCE,
                describe_setting("dust3r", "dir"),
            )
        if str(checkout) not in sys.path:
            sys.path.insert(0, str(checkout))
    candidates = ("dust3r",) if package_dir is not None else ("dust3r", "mini_dust3r")
    for name in candidates:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise unavailable(
        "dust3r",
        "neither the dust3r nor the mini_dust3r package is importable",
        PACKAGE_SOURCE,
        describe_setting("dust3r", "dir"),
    )


def load_dust3r_model(checkpoint: Path, model_module: ModuleType) -> Any:
    """A DUSt3R model from a released .pth checkpoint ({"args": Namespace(model="..."), "model": state})
    or from a model folder (config.json + weights, the Hugging Face layout, read offline).

    The .pth is read with weights_only=True (only argparse.Namespace allowed besides tensors) and the
    model description is parsed, not evaluated. As DUSt3R's own loader does, the training-time patch
    embedding is replaced by the inference one and landscape_only is turned off."""
    import torch

    model_class = model_module.AsymmetricCroCo3DStereo
    if checkpoint.is_dir():
        return model_class.from_pretrained(str(checkpoint), local_files_only=True)
    with torch.serialization.safe_globals([argparse.Namespace]):
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or "args" not in state or "model" not in state:
        raise ValueError(f"{checkpoint}: not a DUSt3R checkpoint (expected the keys 'args' and 'model')")
    class_name, arguments = parse_model_constructor(state["args"].model)
    if class_name != model_class.__name__:
        raise ValueError(f"{checkpoint}: model class {class_name}, expected {model_class.__name__}")
    if arguments.get("patch_embed_cls") == "ManyAR_PatchEmbed":
        arguments["patch_embed_cls"] = "PatchEmbedDust3R"
    arguments["landscape_only"] = False
    model = model_class(**arguments)
    missing, _unexpected = model.load_state_dict(state["model"], strict=False)
    if missing:
        raise ValueError(f"{checkpoint}: weights missing for {len(missing)} parameters, e.g. {missing[:3]}")
    return model
