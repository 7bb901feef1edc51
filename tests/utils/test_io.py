from __future__ import annotations

import dataclasses
import os

import pytest

from motionflow.utils.io import atomic_path, atomic_write_json, atomic_write_text, content_hash
from motionflow.utils.registry import Registry, UnknownNameError


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "records.csv"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["records.csv"]


def test_written_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def test_content_hash_is_stable_and_sees_every_field(tmp_path):
    @dataclasses.dataclass(frozen=True)
    class Settings:
        size: tuple[int, int]
        seed: int

    assert content_hash(Settings((2, 3), 0)) == content_hash(Settings((2, 3), 0))
    assert content_hash(Settings((2, 3), 0)) != content_hash(Settings((2, 3), 1))
    atomic_write_json(tmp_path / "s.json", {"settings": Settings((2, 3), 0)})
    assert '"seed": 0' in (tmp_path / "s.json").read_text()


def test_registry_rejects_duplicates_and_names_the_known_entries():
    registry: Registry[int] = Registry("thing")
    registry.register("a")(1)
    with pytest.raises(ValueError, match="twice"):
        registry.register("a")(2)
    with pytest.raises(UnknownNameError, match="known: a"):
        registry.get("b")
