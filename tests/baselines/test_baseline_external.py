"""VideoCrafter / DynamiCrafter through their official scripts: the subprocess protocol (on a stand-in
checkout whose script follows the official command line and output layout) and the messages when a
checkout, environment or checkpoint is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from baseline_helpers import orbit_trajectory, reference_image

from baselines import METHODS
from baselines.external import ExternalRunError, ExternalSettings, MethodUnavailableError
from motionflow.errors import MissingWeightsError

STAND_IN_SCRIPT = '''
"""Stand-in for the official scripts/evaluation/inference.py (test fixture): parses the official
arguments and writes, where the official script does, a video of --video_length/--frames copies of the
input image at --height x --width."""
import argparse, glob, os, sys
import numpy as np
from PIL import Image
from motionflow.data.video_io import write_video

parser = argparse.ArgumentParser()
for option in ("--seed", "--ckpt_path", "--config", "--savedir", "--n_samples", "--bs", "--height", "--width",
               "--unconditional_guidance_scale", "--ddim_steps", "--ddim_eta", "--prompt_dir", "--video_length",
               "--frame_stride", "--mode", "--prompt_file", "--cond_input", "--fps", "--frames"):
    parser.add_argument(option)
parser.add_argument("--text_input", action="store_true")
args = parser.parse_args()
if os.environ.get("STAND_IN_FAIL"):
    print("CUDA out of memory", file=sys.stderr)
    sys.exit(3)
assert os.path.isfile(args.ckpt_path) and os.path.isfile(args.config)
folder = args.prompt_dir or args.cond_input
image = sorted(glob.glob(os.path.join(folder, "*.png")))[0]
prompt = open(sorted(glob.glob(os.path.join(folder, "*.txt")))[0]).read().strip()
frame = np.asarray(Image.open(image).convert("RGB"))
assert frame.shape[:2] == (int(args.height), int(args.width)) and prompt
name = os.path.basename(image)[:-4]
length = int(args.video_length or args.frames)
if args.mode == "i2v":
    path = os.path.join(args.savedir, name + ".mp4")
else:
    path = os.path.join(args.savedir, "samples_separate", name + "_sample0.mp4")
os.makedirs(os.path.dirname(path), exist_ok=True)
write_video(path, np.repeat(frame[None], length, axis=0))
'''


def stand_in_checkout(root: Path, config: str) -> ExternalSettings:
    script = root / "checkout" / "scripts" / "evaluation" / "inference.py"
    script.parent.mkdir(parents=True)
    script.write_text(STAND_IN_SCRIPT)
    (root / "checkout" / config).parent.mkdir(parents=True, exist_ok=True)
    (root / "checkout" / config).write_text("model: {}\n")
    (root / "model.ckpt").write_bytes(b"weights")
    return ExternalSettings(
        checkout=root / "checkout", python=Path(sys.executable), checkpoint=root / "model.ckpt",
        config=None, prompt=None, timeout_s=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("method", "config"),
    [
        ("dynamicrafter", "configs/inference_256_v1.0.yaml"),
        ("videocrafter", "configs/inference_i2v_512_v1.0.yaml"),
    ],
)
def test_official_script_protocol(method: str, config: str, tmp_path: Path) -> None:
    generator = METHODS.get(method)(stand_in_checkout(tmp_path, config))
    generator.check_available()
    rows, columns = np.meshgrid(np.linspace(0, 1, 48), np.linspace(0, 1, 64), indexing="ij")
    image = (np.stack([rows, columns, 1 - rows * columns], axis=-1) * 255).astype(np.uint8)
    video = generator.generate(image, orbit_trajectory(frames=5, image_size=(48, 64)), 5, seed=7)
    assert video.shape == (5, 48, 64, 3)
    assert np.abs(video[2].astype(float) - image).mean() < 6  # the reference, through two resizes and H.264


def test_dynamicrafter_without_prompt_runs_image_only(tmp_path: Path) -> None:
    generator = METHODS.get("dynamicrafter")(stand_in_checkout(tmp_path, "configs/inference_256_v1.0.yaml"))
    assert "--text_input" not in generator.command(tmp_path, 0, 16)
    assert "--frame_stride" in generator.command(tmp_path, 0, 16)
    with pytest.raises(ValueError, match="RESOLUTION"):
        METHODS.get("dynamicrafter")(resolution="720")


def test_script_failure_quotes_its_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generator = METHODS.get("videocrafter")(
        stand_in_checkout(tmp_path, "configs/inference_i2v_512_v1.0.yaml")
    )
    monkeypatch.setenv("STAND_IN_FAIL", "1")
    with pytest.raises(ExternalRunError, match="exited with code 3.*CUDA out of memory"):
        generator.generate(reference_image(), orbit_trajectory(image_size=(48, 64)), 4)


def test_missing_checkout_environment_and_checkpoint_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("DIR", "PYTHON", "CHECKPOINT", "CONFIG", "PROMPT"):
        monkeypatch.delenv(f"MFBENCH_DYNAMICRAFTER_{key}", raising=False)
    with pytest.raises(
        MethodUnavailableError, match=r"\$MFBENCH_DYNAMICRAFTER_DIR.*github.com/Doubiiu/DynamiCrafter"
    ):
        METHODS.get("dynamicrafter")().check_available()
    settings = stand_in_checkout(tmp_path, "configs/inference_256_v1.0.yaml")
    monkeypatch.setenv("MFBENCH_DYNAMICRAFTER_DIR", str(settings.checkout))
    with pytest.raises(MethodUnavailableError, match=r"\$MFBENCH_DYNAMICRAFTER_PYTHON"):
        METHODS.get("dynamicrafter")().check_available()
    monkeypatch.setenv("MFBENCH_DYNAMICRAFTER_PYTHON", sys.executable)
    monkeypatch.setenv("MFBENCH_WEIGHTS", str(tmp_path / "weights"))
    with pytest.raises(MissingWeightsError, match="dynamicrafter-256.*Doubiiu/DynamiCrafter"):
        METHODS.get("dynamicrafter")().check_available()
    monkeypatch.setenv("MFBENCH_DYNAMICRAFTER_CHECKPOINT", str(tmp_path / "absent.ckpt"))
    with pytest.raises(MissingWeightsError, match="MFBENCH_DYNAMICRAFTER_CHECKPOINT"):
        METHODS.get("dynamicrafter")().check_available()
    monkeypatch.setenv("MFBENCH_DYNAMICRAFTER_CHECKPOINT", str(settings.checkpoint))
    monkeypatch.setenv("MFBENCH_DYNAMICRAFTER_CONFIG", "configs/absent.yaml")
    with pytest.raises(MethodUnavailableError, match="absent.yaml"):
        METHODS.get("dynamicrafter")().check_available()
    monkeypatch.delenv("MFBENCH_DYNAMICRAFTER_CONFIG")
    METHODS.get("dynamicrafter")().check_available()
