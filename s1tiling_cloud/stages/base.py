"""What every stage does around its own compute and write, once: `StageCall` opens the store,
parses the params (a bad one is a `ConfigurationError`, exit 72, in every stage), applies the
re-run rule (outputs whose recorded provenance matches are reused, not recomputed) and times
the call. The rule is the stages' (`provenance_matches`): storage only reads and writes. The
stages themselves are listed in `registry`."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

import rasterio.errors

from ..exceptions import ConfigurationError
from ..outputs.metadata import Provenance
from ..store import Store, is_jpeg

log = logging.getLogger(__name__)


def _without_huge_pages() -> None:
    """Stop numpy from asking for transparent huge pages on its large arrays (it calls
    ``madvise(MADV_HUGEPAGE)`` on them by default).

    With the kernel's usual ``defrag = madvise`` setting, a page fault in such an array compacts
    memory to find a free 2 MiB page, synchronously, wherever the node's memory is fragmented
    (a node whose page cache holds the rasters just written): measured on a 10 m tile's
    `ortho` (~4.5 GiB of fresh arrays), 7.5–8.8 s of system time with huge pages, 3.9–4.6 s
    with 4 KiB pages, and the same user time. A stage streams through its arrays once, so the
    fewer TLB misses of huge pages gain nothing back. The setting is numpy's, process-wide: a
    stage called in a caller's process (the API with `processes=0`) leaves it off there too."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _set_madvise_hugepage
    _set_madvise_hugepage(False)


@dataclasses.dataclass
class StageResult:
    """What a stage did: its outputs (URIs), whether it reused them, and a few figures."""

    stage: str
    outputs: list[str]
    skipped: bool = False
    seconds: float = 0.0
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


class StageCall:
    """One call of a stage: its store, its clock, its params and its re-run check, so that the
    stage's body is its compute and its writes.

    Parameters
    ----------
    stage : str
        The stage's name (recorded in the result).
    storage_options : mapping or None
        The plan's `[Storage]` options, for the call's `store`.

    Examples
    --------
    >>> call = StageCall("rtc", storage_options)            # doctest: +SKIP
    >>> params = call.params(RTCParams, params)            # doctest: +SKIP
    >>> if (reused := call.reused([output], provenance)):  # doctest: +SKIP
    ...     return reused
    >>> return call.done([output], valid=n)                # doctest: +SKIP
    """

    def __init__(self, stage: str, storage_options: Mapping[str, Any] | None = None) -> None:
        self.stage = stage
        self.started = time.perf_counter()
        _without_huge_pages()
        self.store = Store(storage_options)

    def params(self, cls: type, values: Mapping[str, Any] | Any | None) -> Any:
        """`values` (a mapping, an instance or None: the defaults) as a `cls` params dataclass;
        ConfigurationError (exit 72) for an unknown parameter or a value `cls` refuses."""
        try:
            return params_from(cls, {} if values is None else values)
        except ConfigurationError:
            raise
        except (TypeError, ValueError) as error:
            raise ConfigurationError(f"stage {self.stage}: {error}") from error

    def reused(self, outputs: list[str], provenance: Provenance) -> StageResult | None:
        """The re-run check: a skipped result when every output exists and records this very
        `provenance`, None when the stage must compute."""
        if all(provenance_matches(self.store, uri, provenance) for uri in outputs):
            return self.skip(outputs)
        return None

    def skip(self, outputs: list[str], **details: Any) -> StageResult:
        """The result of a call that reused `outputs` (up to date): nothing computed."""
        return StageResult(self.stage, list(outputs), skipped=True, details=details)

    def done(self, outputs: list[str], *, skipped: bool = False, **details: Any) -> StageResult:
        """The result of a call that made `outputs` (or found them made elsewhere: `skipped`),
        timed from the call's start."""
        return StageResult(self.stage, list(outputs), skipped=skipped,
                           seconds=round(time.perf_counter() - self.started, 3), details=details)


def jpeg_comment(digest: str) -> str:
    """The comment a quicklook's JPEG carries for provenance `digest` (`write_quicklook` writes
    it, `provenance_matches` reads it: the sidecar alone could be stale)."""
    # rasterio upper-cases creation option values: compare case-insensitively.
    return f"PROVENANCE_HASH={digest}"


def provenance_matches(store: Store, uri: str | os.PathLike, provenance: Provenance) -> bool:
    """Whether `uri` exists and records `provenance`: then its stage can be skipped (the
    re-run rule).

    A quicklook also carries the hash inside the JPEG (its comment), so a JPEG published
    without its sidecar (a stage killed between the two) does not match; an output that cannot
    be read is made again.

    Parameters
    ----------
    store : Store
        Where `uri` is.
    uri : str or path
        An output of the stage.
    provenance : Provenance
        What the stage would record now.
    """
    if not store.exists(uri):
        return False
    try:
        tags = store.read_tags(uri)
    except rasterio.errors.RasterioError:
        log.warning("cannot read %s: it will be made again", uri)
        return False
    if not provenance.matches(tags):
        return False
    if is_jpeg(uri):
        return tags.get("COMMENT", "").lower() == jpeg_comment(provenance.digest).lower()
    return True


def input_identity(tags: Mapping[str, str]) -> str:
    """What identifies the content of an input, for the re-run rule: its provenance hash.

    An input URI can be rewritten (a re-run of the stage that made it), so the URI alone does not
    say whether an output made from it is stale. An input with no provenance (made by another
    tool) is identified by a hash of its tags, which hold its generation time.
    """
    if "PROVENANCE_HASH" in tags:
        return str(tags["PROVENANCE_HASH"])
    text = json.dumps({str(k): str(v) for k, v in tags.items()}, sort_keys=True)
    return "tags-sha256:" + hashlib.sha256(text.encode()).hexdigest()


def params_from(cls: type, values: Mapping[str, Any] | Any) -> Any:
    """A params dataclass from a JSON-like mapping (nested dataclasses included)."""
    if dataclasses.is_dataclass(values):
        return values
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(fields)
    if unknown:
        raise TypeError(f"{cls.__name__} has no parameter(s) {sorted(unknown)}")
    kwargs = {}
    for name, value in values.items():
        kind = fields[name].type
        nested = _dataclass_named(cls, kind)
        kwargs[name] = params_from(nested, value) if nested and isinstance(value, Mapping) else value
    return cls(**kwargs)


def _dataclass_named(owner: type, annotation: Any) -> type | None:
    """The dataclass an annotation (a string under `from __future__ import annotations`) names."""
    name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    candidate = getattr(importlib.import_module(owner.__module__), name.split(" ")[0], None)
    return candidate if dataclasses.is_dataclass(candidate) else None
