from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from motionflow.camera.re10k_format import format_re10k, read_re10k, write_re10k
from motionflow.errors import CameraFileError

from .helpers import RE10K_FILES, RE10K_IMAGE_SIZE


def test_six_clips_are_bundled():
    assert len(RE10K_FILES) == 6


def test_round_trip_is_exact_to_the_printed_digits(re10k_file, tmp_path):
    trajectory = read_re10k(re10k_file, RE10K_IMAGE_SIZE)
    assert format_re10k(trajectory) == re10k_file.read_text()
    written = write_re10k(tmp_path / "copy.txt", trajectory)
    assert written.read_bytes() == re10k_file.read_bytes()


def test_values_match_the_file(re10k_file):
    lines = re10k_file.read_text().splitlines()
    trajectory = read_re10k(re10k_file, RE10K_IMAGE_SIZE)
    assert len(trajectory) == len(lines) - 1 == 16
    assert trajectory.source == lines[0] and trajectory.image_size == RE10K_IMAGE_SIZE
    np.testing.assert_array_equal(trajectory.frame_indices, np.arange(16))
    for index, line in enumerate(lines[1:]):
        fields = line.split()
        assert trajectory.timestamps[index] == int(fields[0])
        fx, fy, cx, cy = (float(value) for value in fields[1:5])
        np.testing.assert_allclose(
            trajectory.intrinsics[index], [[fx * 384, 0, cx * 384], [0, fy * 256, cy * 256], [0, 0, 1]]
        )
        w2c = np.vstack([np.array(fields[7:], dtype=float).reshape(3, 4), [0, 0, 0, 1]])
        np.testing.assert_allclose(trajectory.c2w[index] @ w2c, np.eye(4), atol=1e-12)


def test_image_size_scales_the_intrinsics(re10k_file):
    small = read_re10k(re10k_file, (128, 192))
    large = read_re10k(re10k_file, RE10K_IMAGE_SIZE)
    np.testing.assert_allclose(small.intrinsics[:, :2] * 2, large.intrinsics[:, :2])
    np.testing.assert_array_equal(small.c2w, large.c2w)


CLIP = RE10K_FILES[0]


def _edit_line(line_number: int, edit: Callable[[list[str]], list[str]]) -> Callable[[str], str]:
    """Applies `edit` to the fields of 1-based line `line_number` of the clip's text."""

    def apply(text: str) -> str:
        lines = text.splitlines()
        lines[line_number - 1] = " ".join(edit(lines[line_number - 1].split()))
        return "\n".join(lines) + "\n"

    return apply


def _set_field(position: int, value: str) -> Callable[[list[str]], list[str]]:
    """Sets 1-based field `position` (1 = timestamp, 8..19 = [R|t])."""
    return lambda fields: [value if index == position - 1 else field for index, field in enumerate(fields)]


def _scale_rotation_row(row: int, factor: float) -> Callable[[list[str]], list[str]]:
    def edit(fields: list[str]) -> list[str]:
        fields = list(fields)
        for column in range(3):
            position = 7 + 4 * row + column
            fields[position] = f"{float(fields[position]) * factor:.9f}"
        return fields

    return edit


MALFORMED_TEXT = {
    "too-few-fields": (_edit_line(3, lambda fields: fields[:-1]), 3, "expected 19 numbers, found 18"),
    "too-many-fields": (_edit_line(5, lambda fields: [*fields, "1.0"]), 5, "expected 19 numbers, found 20"),
    "not-a-number": (_edit_line(4, _set_field(9, "abc")), 4, "field 9 is not a number: 'abc'"),
    "timestamp": (_edit_line(2, _set_field(1, "12.5")), 2, "field 1 (timestamp) is not an integer"),
    "nan-pose": (_edit_line(6, _set_field(10, "nan")), 6, "invalid pose: contains NaN"),
    "nan-intrinsics": (_edit_line(6, _set_field(2, "nan")), 6, "invalid intrinsics"),
    "zero-focal": (_edit_line(7, _set_field(3, "0.0")), 7, "invalid intrinsics"),
    "not-a-rotation": (
        _edit_line(8, _scale_rotation_row(1, 1.5)),
        8,
        "invalid pose: rotation is not orthonormal",
    ),
    "reflection": (
        _edit_line(9, _scale_rotation_row(2, -1.0)),
        9,
        "invalid pose: rotation has det -1.000000",
    ),
    "url-missing": (lambda text: text.split("\n", 1)[1], 1, "line 1 must be the source video URL"),
    "only-url": (lambda text: text.split("\n", 1)[0] + "\n", None, "no camera lines after the URL line"),
    "empty": (lambda text: "", None, "file is empty"),
    "blank": (lambda text: "\n  \n", None, "file is empty"),
}


@pytest.mark.parametrize("case", MALFORMED_TEXT)
def test_malformed_text_names_path_line_and_problem(case, tmp_path):
    corrupt, line, problem = MALFORMED_TEXT[case]
    path = tmp_path / "cameras.txt"
    path.write_text(corrupt(CLIP.read_text()))
    with pytest.raises(CameraFileError) as caught:
        read_re10k(path, RE10K_IMAGE_SIZE)
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert str(caught.value).startswith(where), str(caught.value)
    assert problem in str(caught.value)
    assert caught.value.line == line and caught.value.path == path


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (contains NUL bytes)"),
        (bytes(range(128, 256)), "binary file (not UTF-8 at byte 0)"),
    ],
    ids=["nul-bytes", "not-utf8"],
)
def test_binary_file(content, problem, tmp_path):
    path = tmp_path / "cameras.txt"
    path.write_bytes(content)
    with pytest.raises(CameraFileError) as caught:
        read_re10k(path, RE10K_IMAGE_SIZE)
    assert str(caught.value).startswith(f"{path}: {problem}")


def test_missing_file(tmp_path: Path):
    with pytest.raises(CameraFileError, match="cannot read file"):
        read_re10k(tmp_path / "absent.txt", RE10K_IMAGE_SIZE)
