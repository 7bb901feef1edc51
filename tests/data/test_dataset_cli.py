"""`mfbench dataset ...` end to end with typer's CliRunner on tiny datasets."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bench.cli import app

runner = CliRunner()


def test_build_list_and_export_end_to_end(tmp_path):
    out = tmp_path / "synthetic"
    arguments = ["dataset", "build", "synthetic", "--out", str(out), "--clips", "3", "--frames", "4"]
    result = runner.invoke(app, [*arguments, "--size", "32x48", "--seed", "1", "--paths", "orbit,rotation"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["image_size"] == [32, 48] and len(manifest["clips"]) == 3
    assert {clip["path"] for clip in manifest["clips"]} <= {"orbit", "rotation"}

    listed = runner.invoke(app, ["dataset", "list", str(out)])
    assert listed.exit_code == 0, listed.output
    assert "3 clips, 0 with problems" in listed.output
    for clip in manifest["clips"]:
        assert clip["name"] in listed.output

    broken = manifest["clips"][0]
    (out / broken["split"] / "cameras" / f"{broken['name']}.txt").write_text("https://example\n1 2 3\n")
    listed = runner.invoke(app, ["dataset", "list", str(out)])
    assert listed.exit_code == 1
    assert "1 with problems" in listed.output and "expected 19 numbers" in listed.output

    bundled = runner.invoke(app, ["dataset", "bundled", "--out", str(tmp_path / "real")])
    assert bundled.exit_code == 0, bundled.output
    listed = runner.invoke(app, ["dataset", "list", str(tmp_path / "real")])
    assert listed.exit_code == 0 and "6 clips, 0 with problems" in listed.output


def test_dl3dv_layout_from_the_command_line(tmp_path):
    out = tmp_path / "outdoor"
    arguments = ["dataset", "build", "synthetic", "--out", str(out), "--clips", "2", "--frames", "3"]
    result = runner.invoke(app, [*arguments, "--size", "24x32", "--layout", "dl3dv", "--splits", "test=1"])
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("test/*/transforms.json"))) == 2
    listed = runner.invoke(app, ["dataset", "list", str(out)])
    assert listed.exit_code == 0 and "dl3dv layout" in listed.output


def test_bad_input_gives_a_clear_message_and_a_nonzero_exit(tmp_path):
    build = ["dataset", "build", "synthetic", "--out", str(tmp_path / "d"), "--clips", "1", "--frames", "2"]
    assert runner.invoke(app, [*build, "--size", "12"]).exit_code == 2
    result = runner.invoke(app, [*build, "--scenes", "castle", "--splits", "all=1", "--size", "16x16"])
    assert result.exit_code == 1 and "unknown scene kind 'castle'" in result.output
    assert runner.invoke(app, [*build, "--splits", "all=1", "--size", "16x16"]).exit_code == 0
    result = runner.invoke(app, [*build, "--splits", "all=1", "--size", "16x16", "--seed", "4"])
    assert result.exit_code == 1 and "other settings" in result.output
    result = runner.invoke(app, ["dataset", "list", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "no such folder" in result.output
