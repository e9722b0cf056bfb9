"""The files of an item hashed at once in threads give hashlib's sha256 of each whole file."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from s1tiling_cloud.stac import checksums
from s1tiling_cloud.stac.checksums import file_info, hashing
from s1tiling_cloud.store import Store


@pytest.fixture()
def files(tmp_path, monkeypatch):
    """Files of several sizes around a chunk (made small here so that a few bytes span many)."""
    monkeypatch.setattr(checksums, "_CHUNK", 1000)
    random = np.random.default_rng(3)
    sizes = {"empty": 0, "one_byte": 1, "a_chunk": 1000, "chunks": 5 * 1000 + 17, "big": 123_457}
    paths = {}
    for name, size in sizes.items():
        path = tmp_path / f"{name}.bin"
        path.write_bytes(random.integers(0, 256, size, dtype=np.uint8).tobytes())
        paths[name] = str(path)
    return paths


def _expected(path: str) -> tuple[int, str]:
    with open(path, "rb") as f:
        data = f.read()
    return len(data), "1220" + hashlib.sha256(data).hexdigest()


def test_file_info_is_the_size_and_multihash_of_the_whole_file(files):
    for path in files.values():
        assert file_info(Store(), path) == _expected(path)


def test_files_hashed_at_once_give_each_file_its_own_checksum(files):
    uris = [*files.values(), files["big"]]  # one twice: hashed once
    with hashing(Store(), uris) as pending:
        assert list(pending) == list(files.values())
        results = {uri: future.result() for uri, future in pending.items()}
    assert results == {path: _expected(path) for path in files.values()}


def test_a_missing_file_fails_its_own_hash_only(files, tmp_path):
    missing = str(tmp_path / "missing.tif")
    with hashing(Store(), [files["big"], missing]) as pending:
        with pytest.raises(FileNotFoundError):
            pending[missing].result()
        assert pending[files["big"]].result() == _expected(files["big"])
