"""A tiny XML builder and ESA's number and time formats, shared by the SAFE writers.

ESA writes doubles as ``%.15e``, floats as ``%.6e``, times as ISO UTC with microseconds and no
zone, arrays as space-separated values with a ``count`` attribute, and files with a
double-quoted XML declaration and two-space indentation; the writers reproduce that so that
text-level readers (and diffs against real products) see the familiar shape.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np


def E(tag: str, *children, **attrib) -> ET.Element:  # noqa: N802 - the builder's usual name
    """Element with text (str/number) or sub-elements (elements, iterables, None skipped)."""
    el = ET.Element(tag, {k: str(v) for k, v in attrib.items()})
    for child in children:
        if child is None:
            continue
        if isinstance(child, ET.Element):
            el.append(child)
        elif isinstance(child, str):
            el.text = child
        elif isinstance(child, bool | np.bool_):
            el.text = "true" if child else "false"
        elif isinstance(child, int | np.integer):
            el.text = str(int(child))
        elif isinstance(child, float | np.floating):
            el.text = f15(child)
        else:
            for c in child:
                el.append(c)
    return el


def f15(x: float) -> str:
    """ESA's double format."""
    return f"{float(x):.15e}"


def f6(x: float) -> str:
    """ESA's float format."""
    return f"{float(x):.6e}"


def flag(x: bool) -> str:
    return "true" if x else "false"


def array(tag: str, values, fmt: str = "{:.6e}") -> ET.Element:
    """``<tag count="n">v0 v1 ...</tag>``."""
    values = np.ravel(np.asarray(values))
    return E(tag, " ".join(map(fmt.format, values.tolist())), count=values.size)


def int_array(tag: str, values) -> ET.Element:
    values = np.ravel(np.asarray(values, dtype=np.int64))
    return E(tag, " ".join(map(str, values.tolist())), count=values.size)


def times(t) -> np.ndarray:
    """datetime64 -> ESA time strings, rounded to the microsecond."""
    t = np.asarray(t, dtype="datetime64[ns]") + np.timedelta64(500, "ns")
    return np.datetime_as_string(t.astype("datetime64[us]"), unit="us")


def time1(t) -> str:
    return str(times(t).ravel()[0])


def to_string(root: ET.Element) -> bytes:
    """Indented document with ESA's XML declaration."""
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def write(root: ET.Element, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_string(root))
    return path
