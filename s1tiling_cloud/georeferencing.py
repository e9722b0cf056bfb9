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
            warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)
            _installed = warnings.filters[0]
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                if _installed in warnings.filters:  # not reset by someone else meanwhile
                    warnings.filters.remove(_installed)
                _installed = None
