"""`not_georeferenced_ok` from overlapping threads: silenced while any thread is inside, the
process's filters as they were once all have left (what `warnings.catch_warnings` cannot do)."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning

from s1tiling_cloud.georeferencing import not_georeferenced_ok


@pytest.fixture
def plain_tiff(tmp_path):
    """A GeoTIFF without any georeferencing: opening it warns."""
    path = tmp_path / "plain.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", driver="GTiff", width=4, height=3, count=1,
                           dtype="uint8") as dataset:
            dataset.write(np.zeros((1, 3, 4), np.uint8))
    return path


def test_overlapping_threads_stay_silenced_and_leave_the_filters_as_found(plain_tiff):
    with warnings.catch_warnings():  # this test's filters, undone when it ends
        warnings.simplefilter("always", NotGeoreferencedWarning)  # shown each time, not once
        _overlap(plain_tiff)


def _overlap(plain_tiff) -> None:
    before = list(warnings.filters)
    first_inside, second_inside, first_left, second_done = (threading.Event() for _ in range(4))
    seen: dict[str, list[str]] = {}

    def first():
        with not_georeferenced_ok():
            first_inside.set()
            second_inside.wait(5)
        first_left.set()

    def second():
        first_inside.wait(5)
        with not_georeferenced_ok():
            second_inside.set()
            first_left.wait(5)
            # The first thread has left: with catch_warnings it would have restored the list
            # it saved, the filter gone while this thread still needs it.
            seen["inside"] = _opened_quietly(plain_tiff)
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert second_done.is_set()
    assert seen["inside"] == []
    assert warnings.filters == before
    assert _opened_quietly(plain_tiff) == ["NotGeoreferencedWarning"]


def _opened_quietly(path) -> list[str]:
    """The warnings opening `path` gives under the process's current filters."""
    shown: list[str] = []
    original = warnings.showwarning
    warnings.showwarning = lambda message, category, *args, **kwargs: shown.append(category.__name__)
    try:
        with rasterio.open(path):
            pass
    finally:
        warnings.showwarning = original
    return shown


def test_a_callers_own_filter_outlives_the_silencing(plain_tiff):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # the caller's, equal to ours
        before = list(warnings.filters)
        with not_georeferenced_ok():
            pass
        assert warnings.filters == before
        assert _opened_quietly(plain_tiff) == []
