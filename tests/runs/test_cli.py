from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from bench import regression
from bench.cli import app
from bench.runs.suites import SUITES

runner = CliRunner()
SUITE = "test-cli-tiny"


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """One tiny suite run through the CLI; the commands below reuse its directory (everything cached)."""
    from dataclasses import replace

    from bench.runs.suites import SourceSpec

    if SUITE not in SUITES:
        base = SUITES.get("smoke")
        SUITES.register(SUITE)(
            replace(
                base,
                name=SUITE,
                sources=(SourceSpec("synthetic-indoor", 1, (128, 128)),),
                methods=("oracle", "static"),
                trajectory_sets=("basic",),
                num_frames=8,
            )
        )
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    result = runner.invoke(app, ["run", "--suite", SUITE, "--out", str(run_dir), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return run_dir


def test_run_writes_records_tables_and_report(cli_run):
    assert (cli_run / "records" / "records.parquet").is_file()
    assert (cli_run / "records" / "records.csv").is_file()
    assert (cli_run / "tables" / "table1.tex").is_file()
    assert "<video" in (cli_run / "report.html").read_text()
    assert (cli_run / "timings.json").is_file()


def test_table_command_prints_each_format(cli_run):
    latex = runner.invoke(app, ["table", "1", "--run", str(cli_run), "--format", "latex", "--with-paper"])
    assert latex.exit_code == 0 and r"\begin{tabular}" in latex.output and "(published)" in latex.output
    markdown = runner.invoke(app, ["table", "2", "--run", str(cli_run), "--ci"])
    assert markdown.exit_code == 0 and "| static (reference repeated) |" in markdown.output


def test_check_passes_on_its_own_numbers_and_fails_with_a_diff(cli_run, tmp_path, monkeypatch):
    monkeypatch.setattr(regression, "STORED_DIR", tmp_path)
    update = runner.invoke(
        app, ["check", "--suite", SUITE, "--run", str(cli_run), "--update", "--reason", "test"]
    )
    assert update.exit_code == 0, update.output
    same = runner.invoke(app, ["check", "--suite", SUITE, "--run", str(cli_run)])
    assert same.exit_code == 0 and "within tolerance" in same.output
    stored = pd.read_csv(tmp_path / f"{SUITE}.csv")
    stored.loc[stored["metric"] == "ssim", "value"] += 0.1
    stored.to_csv(tmp_path / f"{SUITE}.csv", index=False)
    moved = runner.invoke(app, ["check", "--suite", SUITE, "--run", str(cli_run)])
    assert moved.exit_code == 1 and "ssim: value" in moved.output


def test_bad_invocations_exit_non_zero_with_a_message(tmp_path):
    unknown = runner.invoke(app, ["run", "--suite", "no-such-suite", "--out", str(tmp_path / "r")])
    assert unknown.exit_code == 2 and "unknown suite" in " ".join(unknown.output.split())
    no_run = runner.invoke(app, ["table", "1", "--run", str(tmp_path)])
    assert no_run.exit_code == 2 and "no records" in " ".join(no_run.output.split())
    bracketed = runner.invoke(app, ["table", "1", "--run", str(tmp_path / "[draft]")])
    assert f"{tmp_path / '[draft]'} has no records" in bracketed.output  # printed as is, not as markup
    bad_shard = runner.invoke(app, ["run", "--shard", "3/2", "--out", str(tmp_path / "r")])
    assert bad_shard.exit_code != 0
    bad_noise = runner.invoke(app, ["run", "--initial-noise", "uniform", "--out", str(tmp_path / "r")])
    assert bad_noise.exit_code == 2 and "reference, gaussian, warped" in " ".join(bad_noise.output.split())
    bad_strength = runner.invoke(app, ["run", "--strength", "0", "--out", str(tmp_path / "r")])
    assert bad_strength.exit_code == 2 and "strength must be in (0, 1]" in " ".join(
        bad_strength.output.split()
    )
    no_latent = ["run", "--strength", "0.5", "--initial-noise", "gaussian", "--out", str(tmp_path / "r")]
    gaussian = runner.invoke(app, no_latent)
    assert gaussian.exit_code == 2 and "warped or depth-warped)" in " ".join(gaussian.output.split())
    bad_seed = runner.invoke(app, ["run", "--seed", "10000", "--out", str(tmp_path / "r")])
    assert bad_seed.exit_code == 2 and "leave the test range" in " ".join(bad_seed.output.split())
    assert not (tmp_path / "r").exists()
    for value, message in (("motionflow", "METHOD=FOLDER"), (f"motionflow={tmp_path / 'none'}", "not found")):
        bad_checkpoint = runner.invoke(app, ["run", "--checkpoint", value, "--out", str(tmp_path / "r")])
        assert bad_checkpoint.exit_code == 2 and message in " ".join(bad_checkpoint.output.split())


def test_pose_command_estimates_a_run_into_its_pose_folder(cli_run):
    from bench.runs.layout import RunLayout, VideoKey

    result = runner.invoke(app, ["pose", "--run", str(cli_run), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "(cached)" in result.output  # the run already estimated every video
    layout = RunLayout(cli_run)
    assert layout.pose_file(
        "colmap", "gt", VideoKey("synthetic-indoor", "basic", "indoor-re10k-0"), 0
    ).is_file()
    both = runner.invoke(app, ["pose", "--run", str(cli_run), "--videos", str(cli_run)])
    assert both.exit_code != 0
