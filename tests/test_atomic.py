"""Files of the serving folder replaced atomically (`serving/atomic.py`)."""

from __future__ import annotations

import stat

import pytest

from serving import atomic


def test_write_text_replaces_the_file_readable_by_others_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "serving" / "report.html"
    atomic.write_text(target, "old")
    atomic.write_text(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert stat.S_IMODE(target.stat().st_mode) == atomic.FILE_MODE
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    target = tmp_path / "serving" / "manifest.json"
    target.parent.mkdir()
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic.replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["manifest.json"]


def test_two_writers_never_share_a_temporary_file(tmp_path):
    target = tmp_path / "serving" / "x.csv"
    with atomic.replacing(target) as first, atomic.replacing(target) as second:
        assert first != second and first.parent == second.parent == target.parent
        first.write_text("1")
        second.write_text("2")
    assert target.read_text() == "1"  # the outer block finished last
