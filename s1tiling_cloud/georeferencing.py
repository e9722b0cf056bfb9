"""Silencing rasterio's `NotGeoreferencedWarning` where an image need not be georeferenced,
from several threads at once.

`warnings.catch_warnings` saves and restores the process's whole filter list, so two threads
inside it at once restore each other's lists: one thread's warning shows while it should not,
or the filter outlives both (an ortho encodes each polarisation and its mask in threads of
their own, each opening rasters). Here the filter is installed by the first thread to enter and
removed by the last to leave; while any thread is inside, the warning is silenced for all.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from rasterio.errors import NotGeoreferencedWarning

_lock = threading.Lock()
_inside = 0
_installed: tuple | None = None


@contextmanager
def not_georeferenced_ok() -> Iterator[None]:
    """Within: opening or writing a raster without georeferencing warns nothing (a quicklook,
    a test image, a measurement TIFF with GCPs only), whichever thread does it."""
    global _inside, _installed
    with _lock:
        if _inside == 0:
            # Our own filter object, first in the list, removed by identity: not through
            # `warnings.filterwarnings`, which would first take out a caller's equal filter.
            # An "ignore" records nothing in the warning registries, so adding and removing it
            # leaves nothing stale behind.
            _installed = ("ignore", None, NotGeoreferencedWarning, None, 0)
            warnings.filters.insert(0, _installed)
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                for index, item in enumerate(warnings.filters):
                    if item is _installed:  # gone if someone reset the filters meanwhile
                        del warnings.filters[index]
                        break
                _installed = None
