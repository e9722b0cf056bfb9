"""Argo's progress file, written by a stage in its pod."""

from __future__ import annotations

from s1tiling_cloud.runners.argo_progress import PROGRESS_ENV, report_progress


def test_reports_n_of_m_where_argo_says(tmp_path, monkeypatch):
    path = tmp_path / "progress"
    monkeypatch.setenv(PROGRESS_ENV, str(path))
    assert report_progress(3, 10)
    assert path.read_text() == "3/10\n"
    assert report_progress(12, 10) and path.read_text() == "10/10\n"
    assert list(tmp_path.iterdir()) == [path]  # no temporary left behind


def test_does_nothing_outside_argo(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert report_progress(1, 2) is False

