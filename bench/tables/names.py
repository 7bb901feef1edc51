"""Display names shared by the tables and the report."""

from __future__ import annotations

METHOD_LABELS = {
    "cameractrl": "CameraCtrl",
    "motionctrl": "MotionCtrl",
    "motionflow": "MotionFlow",
    "motionflow-ray-bias": "MotionFlow + ray bias",
    "motionflow-depth-condition": "MotionFlow + depth-warped condition",
    "animatediff": "AnimateDiff",
    "videocrafter": "VideoCrafter",
    "dynamicrafter": "DynamiCrafter",
    "cameractrl+ic": "CameraCtrl+IC",
    "motionflow-no-refnet": "w/o referNet",
    "motionflow-no-semantic": "w/o Semantic Encoder",
    "motionflow-no-sd-init": "w/o stable diffusion pretrain",
    "oracle": "oracle (ground-truth video)",
    "autoencoder": "autoencoder (ground truth through the codec)",
    "static": "static (reference repeated)",
    "still-camera": "still camera (not estimated)",
    "warp": "warp (rotation homography)",
    "depth-warp": "depth warp (estimated depth)",
}
"""Method registry names -> the labels the paper's tables use."""

METHOD_ORDER = tuple(METHOD_LABELS)
"""Rows in this order; methods not listed follow, alphabetically."""

ESTIMATOR_LABELS = {
    "dust3r": "Dust3R",
    "vggsfm": "VggSfM",
    "particlesfm": "ParticleSfM",
    "colmap": "COLMAP",
    "vggt": "VGGT",
}

METRIC_LABELS = {
    "TransErr": "T-Err",
    "RotErr": "R-Err",
    "CamMC": "CamMC",
    "ATE": "ATE",
    "lpips": "LPIPS",
    "psnr": "PSNR",
    "ssim": "SSIM",
    "fid": "FID",
    "kid": "KID",
    "fvd": "FVD",
}

TRAJECTORY_SET_LABELS = {"basic": "Basic", "difficult": "Difficult"}

ABLATION_LABELS = {"motionflow": "Full Model"}
"""Table 4 calls the full model "Full Model"; the ablations keep their METHOD_LABELS."""


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def sort_methods(methods: list[str]) -> list[str]:
    known = [method for method in METHOD_ORDER if method in methods]
    return known + sorted(set(methods) - set(known))
