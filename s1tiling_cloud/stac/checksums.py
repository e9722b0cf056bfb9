"""Size and sha2-256 multihash of the files an item lists (the file extension's `file:size` and
`file:checksum`).

Hashing is most of the publish stage's work: a dual-polarisation 10 m product is two 522 MB
COGs. The files of an item are hashed at once, one thread each (hashlib releases the GIL while
it hashes a buffer larger than 2 KiB), so the two products take the time of one on two cores,
while the item's other facts (footprint, grid) are read. Each thread reads into one buffer it
reuses: no fresh pages, no copy per chunk.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from ..store import Store

__all__ = ["file_info", "hashing"]

_CHUNK = 16 * 2**20


def file_info(store: Store, uri: str) -> tuple[int, str]:
    """(size in bytes, sha2-256 multihash) of a file, read in chunks.

    Parameters
    ----------
    store : Store
        Where the file is.
    uri : str
        The file.
    """
    digest, size = hashlib.sha256(), 0
    buffer = bytearray(_CHUNK)
    with store.open(uri, "rb") as f, memoryview(buffer) as view:
        while count := f.readinto(view):
            digest.update(view[:count])
            size += count
    return size, "1220" + digest.hexdigest()


@contextmanager
def hashing(store: Store, uris: Iterable[str]) -> Iterator[Mapping[str, Future]]:
    """`file_info` of each of `uris`, computed in threads started on entry: {uri: its future}.
    On exit, every hash has finished (or failed).

    Parameters
    ----------
    store : Store
        Where the files are.
    uris : iterable of str
        The files (a URI given twice is hashed once).
    """
    unique = list(dict.fromkeys(uris))
    workers = max(1, min(len(unique), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sha256") as pool:
        futures = {uri: pool.submit(file_info, store, uri) for uri in unique}
        try:
            yield futures
        except BaseException:  # the item failed: the hashes not started are not needed
            for future in futures.values():
                future.cancel()
            raise
