"""The visual-metric suite: missing or wrong weights give "not computed" results, never a crash."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import motionflow.weights
from bench.metrics.suite import VisualMetricSuite
from bench.metrics.weight_specs import ALEXNET_LPIPS
from motionflow.errors import FrameCountError, VideoError
from motionflow.utils.io import sha256_file
from tests.metrics.conftest import (
    alexnet_state_of,
    package_lpips_with_random_backbone,
    random_video,
    write_stand_in_i3d,
)

MISSING_ALEXNET = "not computed: metrics/alexnet-owt-7be5be79.pth missing, see `mfbench weights where`"


def test_paired_metrics_without_weights_compute_psnr_ssim_and_explain_lpips():
    generated, reference = random_video(4, 24, 32, seed=1), random_video(4, 24, 32, seed=2)
    results = VisualMetricSuite(distribution=()).score_pair(generated, reference)
    assert results["psnr"].ok and len(results["psnr"].per_item) == 4
    assert results["psnr"].value == pytest.approx(np.mean(results["psnr"].per_item))
    assert results["ssim"].ok and -1.0 < results["ssim"].value < 1.0
    assert results["lpips"].status == "not_computed" and results["lpips"].value is None
    assert results["lpips"].reason == MISSING_ALEXNET
    assert str(results["lpips"]) == f"lpips: {MISSING_ALEXNET}"


def test_lpips_from_the_weights_root_when_its_spec_matches(isolated_weights_root, monkeypatch):
    target = isolated_weights_root / ALEXNET_LPIPS.relative_path
    target.parent.mkdir(parents=True)
    torch.save(alexnet_state_of(package_lpips_with_random_backbone(seed=5)), target)
    spec = replace(ALEXNET_LPIPS, sha256_prefix=None, sha256=sha256_file(target))
    monkeypatch.setitem(motionflow.weights._REGISTRY, spec.name, spec)
    results = VisualMetricSuite(paired=("lpips",), distribution=()).score_pair(
        random_video(2, 32, 32, seed=1), random_video(2, 32, 32, seed=2)
    )
    assert results["lpips"].ok and len(results["lpips"].per_item) == 2


def test_a_corrupt_weight_file_is_not_computed_with_its_reason(isolated_weights_root):
    target = isolated_weights_root / ALEXNET_LPIPS.relative_path
    target.parent.mkdir(parents=True)
    target.write_bytes(b"truncated download")
    results = VisualMetricSuite(paired=("lpips", "psnr"), distribution=()).score_pair(
        random_video(1, 16, 16), random_video(1, 16, 16, seed=3)
    )
    assert results["psnr"].ok
    assert results["lpips"].status == "not_computed" and "SHA-256" in results["lpips"].reason


def test_distribution_metrics_report_missing_weights_and_sample_counts(isolated_weights_root):
    write_stand_in_i3d(isolated_weights_root)
    suite = VisualMetricSuite(paired=(), distribution=("fid", "kid", "fvd"))
    generated = [random_video(16, 20, 20, seed=seed) for seed in range(3)]
    reference = [random_video(32, 20, 20, seed=10 + seed) for seed in range(3)]
    results = suite.score_distributions(generated, reference)
    assert results["fid"].status == "not_computed"
    assert results["fid"].reason == (
        "not computed: metrics/pt_inception-2015-12-05-6726825d.pth missing, see `mfbench weights where`"
    )
    assert results["kid"].reason == results["fid"].reason
    fvd = results["fvd"]
    assert fvd.ok and fvd.details["n_generated"] == 3 and fvd.details["n_reference"] == 6
    assert fvd.details["below_feature_dim"] and "N = 3 generated / 6 reference clips" in fvd.details["note"]
    assert str(fvd).startswith("fvd = ") and "N = 3 generated / 6 reference clips, below" in str(fvd)
    assert set(suite.features(generated[0])) == {"i3d_stylegan_v"}


def test_videos_that_do_not_pair_raise():
    suite = VisualMetricSuite(paired=("psnr",), distribution=())
    with pytest.raises(FrameCountError, match="4 frames, reference has 3"):
        suite.score_pair(random_video(4, 16, 16), random_video(3, 16, 16))
    with pytest.raises(VideoError, match="reference frames"):
        suite.score_pair(random_video(2, 16, 16), random_video(2, 16, 18))


def test_unknown_metric_names_list_the_known_ones():
    with pytest.raises(KeyError, match="known: lpips, psnr, ssim"):
        VisualMetricSuite(paired=("psnr", "vmaf"))
    with pytest.raises(KeyError, match="fvd_videogpt"):
        VisualMetricSuite(distribution=("is",))
