"""`mfbench weights list|verify|where` end to end with typer's CliRunner."""

from __future__ import annotations

import hashlib

import pytest
from typer.testing import CliRunner

import motionflow.weights
from bench.cli import app
from bench.metrics.weight_specs import ALEXNET_LPIPS, INCEPTION_FID
from motionflow.checkpoints.depth import depth_weights_hash
from motionflow.weights import WeightSpec

runner = CliRunner()
WIDE = {"COLUMNS": "300"}


def invoke(*args: str, **env: str):
    return runner.invoke(app, ["weights", *args], env=WIDE | env)


def test_list_shows_every_metric_file_with_source_and_presence(isolated_weights_root):
    (isolated_weights_root / INCEPTION_FID.relative_path).parent.mkdir(parents=True)
    (isolated_weights_root / INCEPTION_FID.relative_path).write_bytes(b"x")
    result = invoke("list")
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 3}
    assert "pt_inception-2015-12-05-6726825d.pth" in lines["inception_fid"]
    assert lines["inception_fid"].rstrip(" │").endswith("yes")
    assert "7be5be79… (prefix)" in lines["alexnet_lpips"]
    assert lines["alexnet_lpips"].rstrip(" │").endswith("no")
    assert "https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt" in lines["i3d_stylegan_v"]
    assert "i3d_pretrained_400.pt" in lines["i3d_videogpt"]
    assert "cameractrl/CameraCtrl.ckpt" in lines["cameractrl-official"]
    assert lines["motionflow-small"].split("│")[2].strip() == "autoencoder, motionflow"
    assert lines["motionflow-small-depth-condition"].split("│")[2].strip() == "motionflow-depth-condition"
    assert lines["cameractrl-ic-small"].split("│")[2].strip() == "cameractrl+ic"
    assert lines["depth-small"].split("│")[2].strip() == "depth network (depth-warp)"
    assert lines["depth-small"].split("│")[4].strip() == depth_weights_hash()


def test_where_names_the_root_its_origin_and_each_expected_path(isolated_weights_root, tmp_path):
    result = invoke("where")
    assert result.exit_code == 0, result.output
    assert f"weights root: {isolated_weights_root} (from $MFBENCH_WEIGHTS)" in result.output
    assert "export MFBENCH_WEIGHTS=" in result.output
    assert f"{isolated_weights_root / ALEXNET_LPIPS.relative_path} (missing;" in result.output
    other = tmp_path / "elsewhere"
    result = invoke("where", "--root", str(other))
    assert f"weights root: {other} (from --root)" in result.output


def test_verify_passes_with_files_missing_and_fails_on_a_mismatch(isolated_weights_root, monkeypatch):
    result = invoke("verify")
    assert result.exit_code == 0, result.output
    assert "alexnet_lpips: missing" in result.output and "0 mismatched" in result.output

    content = b"weights of a test model"
    good = WeightSpec(
        "test_good", "test/good.bin", "test", "test", sha256=hashlib.sha256(content).hexdigest()
    )
    bad = WeightSpec("test_bad", "test/bad.bin", "test", "test", sha256=hashlib.sha256(b"other").hexdigest())
    for spec in (good, bad):
        monkeypatch.setitem(motionflow.weights._REGISTRY, spec.name, spec)
        (isolated_weights_root / spec.relative_path).parent.mkdir(parents=True, exist_ok=True)
        (isolated_weights_root / spec.relative_path).write_bytes(content)
    result = invoke("verify")
    assert result.exit_code == 1
    assert "test_good: ok" in result.output
    assert "test_bad: MISMATCH" in result.output and "1 mismatched" in result.output


@pytest.mark.parametrize("command", ["list", "verify", "where"])
def test_help(command):
    assert invoke(command, "--help").exit_code == 0
