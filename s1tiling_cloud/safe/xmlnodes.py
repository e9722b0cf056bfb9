"""Typed access to the Sentinel-1 XML files: tags without namespaces, values as numpy types.

ESA writes times as ISO strings in UTC without a zone, lists as space-separated numbers, and
the manifest with namespaces that we ignore (`{*}` matches any of them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
from lxml import etree

Element = etree._Element

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def parse(data: bytes, name: str) -> Element:
    """The root element of an XML document; a syntax error names the file."""
    from ..exceptions import CorruptedDataSAFEError

    try:
        return etree.fromstring(data, parser=etree.XMLParser(huge_tree=True))
    except etree.XMLSyntaxError as error:
        raise CorruptedDataSAFEError(name, f"invalid XML ({error})") from error


def snake(tag: str) -> str:
    """`slantRangeTime` -> `slant_range_time`, the naming rule of every variable we expose."""
    return _CAMEL.sub("_", tag).lower()


def _path(path: str) -> str:
    return "/".join(part if part in ("", ".", "..") else "{*}" + part for part in path.split("/"))


def find(node: Element, path: str) -> Element | None:
    return node.find(_path(path))


def findall(node: Element, path: str) -> list[Element]:
    return node.findall(_path(path))


def text(node: Element, path: str, default: str | None = None) -> str | None:
    found = find(node, path)
    if found is None or found.text is None:
        return default
    return found.text.strip()


def number(node: Element, path: str, default: float = np.nan) -> float:
    value = text(node, path)
    return float(value) if value not in (None, "") else default


def integer(node: Element, path: str, default: int = -1) -> int:
    value = text(node, path)
    return int(value) if value not in (None, "") else default


def boolean(node: Element, path: str) -> bool:
    return text(node, path, "false").lower() == "true"


def time(node: Element, path: str) -> np.datetime64:
    """An ESA UTC time (no zone, microseconds) as datetime64[ns]."""
    value = text(node, path)
    return np.datetime64(value, "ns") if value else np.datetime64("NaT", "ns")


def times(values: Iterable[str]) -> np.ndarray:
    return np.array(list(values), dtype="datetime64[ns]")


def vector(node: Element, path: str, dtype: type = np.float64) -> np.ndarray:
    """A space-separated list of numbers (`<sigmaNought count="..">1 2 3</..>`)."""
    value = text(node, path, "")
    return np.array(value.split(), dtype=dtype) if value else np.empty(0, dtype=dtype)


def column(nodes: list[Element], path: str, dtype: type = np.float64) -> np.ndarray:
    """The same child of many sibling records, as one array (NaN or -1 where absent)."""
    if np.issubdtype(dtype, np.datetime64):
        return times(text(n, path) or "NaT" for n in nodes)
    if dtype is str:
        return np.array([text(n, path, "") for n in nodes], dtype=object)
    if np.issubdtype(dtype, np.integer):
        return np.array([integer(n, path) for n in nodes], dtype=dtype)
    return np.array([number(n, path) for n in nodes], dtype=dtype)


def ragged(rows: list[np.ndarray], fill: float = np.nan) -> np.ndarray:
    """Stack rows of different lengths into a 2-D array padded with `fill`."""
    width = max((len(r) for r in rows), default=0)
    dtype = np.result_type(*(r.dtype for r in rows)) if rows else np.float64
    if np.issubdtype(dtype, np.integer) and np.isnan(fill):
        dtype = np.float64
    out = np.full((len(rows), width), fill, dtype=dtype)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out
