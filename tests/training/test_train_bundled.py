import subprocess
import sys

from bench.train_bundled import latest_step, wait_reporting


def test_progress_lines_name_each_runs_latest_step_and_failures_are_returned(tmp_path, capsys):
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "losses.csv").write_text(
        "phase,step,loss,learning_rate,grad_norm,seconds\nstage1,7,0.1,0.001,1,2.0\n"
    )
    runs = {
        "slow": subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.6)"]),
        "broken": subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]),
    }
    assert wait_reporting(runs, tmp_path, every=0.2) == ["broken"]
    printed = capsys.readouterr().out
    assert "slow: stage1 7" in printed and "broken: -" in printed
    assert latest_step(tmp_path / "missing") == "-"
