"""Offline validation of items, collections and whole static catalogs.

pystac bundles the core STAC schemas (item, collection, catalog, GeoJSON), so the core is always
checked. The extension schemas (SAR, SAT, projection, raster, processing, file, MGRS, at the
versions pystac 1.15 writes) are not in pystac nor in this package: given a folder of them
(`schema_dir`, or `$S1TILING_STAC_SCHEMAS`), they are seeded into the validator's cache and an
extension without its schema is an error; without a folder, extensions are listed as not
checked. The validator never goes to the network, so validation gives the same answer in a pod
without egress.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pystac
from pystac.validation import JsonSchemaSTACValidator, validate_dict
from pystac.validation.stac_validator import GetSchemaError

from ..exceptions import StacPublicationError
from .documents import JsonDocuments
from .hrefs import resolve_href

__all__ = ["OfflineValidator", "ValidationReport", "default_schema_dir", "offline_validator",
           "problems", "validate_catalog"]

SCHEMA_DIR_ENV = "S1TILING_STAC_SCHEMAS"


class OfflineValidator(JsonSchemaSTACValidator):
    """pystac's JSON-schema validator restricted to the schemas it holds (pystac's and those given).

    `require_extensions`: an extension whose schema is not held is an error; otherwise it is
    added to `unchecked` and skipped.
    """

    def __init__(self, require_extensions: bool = True) -> None:
        super().__init__()
        self.require_extensions = require_extensions
        self.unchecked: set[str] = set()

    def validate_extension(self, stac_dict, stac_object_type, stac_version, extension_id, href=None):
        if not self.require_extensions and extension_id.split("#", 1)[0] not in self.schema_cache:
            self.unchecked.add(extension_id)
            return None
        return super().validate_extension(stac_dict, stac_object_type, stac_version, extension_id, href)

    def _get_schema(self, schema_uri: str) -> dict[str, Any]:
        key = schema_uri.split("#", 1)[0]
        if key not in self.schema_cache:
            raise GetSchemaError(schema_uri, FileNotFoundError(
                f"schema {key} is not available offline (add it to the schema folder)"))
        return self.schema_cache[key]


def default_schema_dir() -> Path | None:
    """`$S1TILING_STAC_SCHEMAS` if set: the folder of extension schemas (else none)."""
    return Path(os.environ[SCHEMA_DIR_ENV]) if os.environ.get(SCHEMA_DIR_ENV) else None


def offline_validator(schema_dir: str | os.PathLike | None = None) -> OfflineValidator:
    """A validator of the core schemas, seeded with every `*.json` schema (keyed by its `$id`) of
    `schema_dir` (default: `default_schema_dir()`); with no folder, extensions go unchecked."""
    folder = Path(schema_dir) if schema_dir is not None else default_schema_dir()
    if folder is None:
        return OfflineValidator(require_extensions=False)
    if not folder.is_dir():
        raise StacPublicationError(f"no STAC extension schemas at {folder} (give a folder of "
                                   f"schemas, or set ${SCHEMA_DIR_ENV})")
    validator = OfflineValidator()
    for path in sorted(folder.glob("*.json")):
        schema = json.loads(path.read_text())
        schema_id = schema.get("$id") or schema.get("id")
        if schema_id:
            validator.schema_cache[schema_id.split("#", 1)[0]] = schema
    return validator


def problems(document: Mapping[str, Any], validator: OfflineValidator,
             href: str | None = None) -> list[str]:
    """Why a STAC document is invalid against core and extension schemas (empty: it is valid)."""
    try:
        validate_dict(dict(document), href=href, validator=validator)
    except pystac.STACValidationError as error:
        return [str(error).splitlines()[0] + ": " + (str(error.source[0].message)
                                                     if error.source else str(error))]
    except (GetSchemaError, pystac.STACTypeError, KeyError, ValueError) as error:
        return [f"{href or document.get('id')}: {error}"]
    return []


@dataclass
class ValidationReport:
    """What `validate_catalog` checked and what it found wrong."""

    documents: int = 0
    items: int = 0
    errors: list[str] = field(default_factory=list)
    #: Extensions (schema URIs) used by the documents but not checked: no schema for them.
    unchecked_extensions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_catalog(catalog_uri: str, *, schema_dir: str | os.PathLike | None = None,
                     storage_options: Mapping[str, Any] | None = None) -> ValidationReport:
    """Validate a static catalog: every document reachable from the root, and its links.

    Checks that each child and item link leads to a readable JSON document that validates, and
    that every collection lists each item once.

    `catalog_uri`: the root `catalog.json` (path or `s3://`); `schema_dir`: folder of extension
    schemas (see `offline_validator`); `storage_options`: fsspec's, for S3.
    """
    validator = offline_validator(schema_dir)
    documents = JsonDocuments(storage_options)
    report = ValidationReport()
    pending, seen = [catalog_uri], set()
    while pending:
        uri = pending.pop()
        if uri in seen:
            report.errors.append(f"{uri} is linked more than once")
            continue
        seen.add(uri)
        try:
            document = documents.read(uri)
        except (OSError, ValueError) as error:
            report.errors.append(f"{uri}: not readable JSON ({error})")
            continue
        if document is None:
            report.errors.append(f"{uri}: linked but missing")
            continue
        report.documents += 1
        report.items += document.get("type") == "Feature"
        report.errors.extend(problems(document, validator, href=uri))
        for link in document.get("links", []):
            if link.get("rel") in ("child", "item"):
                pending.append(resolve_href(uri, link["href"]))
    report.unchecked_extensions = sorted(validator.unchecked)
    return report
