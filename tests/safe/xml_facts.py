"""Facts read straight from the fixtures' XML with the standard library, independent of the
reader under test, to check the values it exposes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np


def annotation_files(safe: Path) -> list[Path]:
    return sorted((safe / "annotation").glob("s1*.xml"))


def swath_pol(path: Path) -> tuple[str, str]:
    parts = path.name.split("-")
    return parts[1].upper(), parts[3].upper()


def gcp_points(path: Path) -> list[dict]:
    root = ET.parse(path).getroot()
    points = []
    for p in root.iter("geolocationGridPoint"):
        points.append({c.tag: c.text for c in p})
    return points


def orbit_vectors(path: Path) -> list[dict]:
    root = ET.parse(path).getroot()
    out = []
    for o in root.find("generalAnnotation/orbitList"):
        out.append({
            "time": np.datetime64(o.find("time").text, "ns"),
            "position": [float(o.find(f"position/{a}").text) for a in "xyz"],
            "velocity": [float(o.find(f"velocity/{a}").text) for a in "xyz"],
        })
    return out


def calibration_vectors(path: Path) -> list[dict]:
    root = ET.parse(path).getroot()
    out = []
    for v in root.iter("calibrationVector"):
        out.append({
            "line": int(v.find("line").text),
            "pixel": np.array(v.find("pixel").text.split(), dtype=int),
            "sigma": np.array(v.find("sigmaNought").text.split(), dtype=float),
            "beta": np.array(v.find("betaNought").text.split(), dtype=float),
            "gamma": np.array(v.find("gamma").text.split(), dtype=float),
            "dn": np.array(v.find("dn").text.split(), dtype=float),
        })
    return out


def noise_range_vectors(path: Path) -> list[dict]:
    root = ET.parse(path).getroot()
    out = []
    for v in root.iter("noiseRangeVector"):
        out.append({
            "line": int(v.find("line").text),
            "pixel": np.array(v.find("pixel").text.split(), dtype=int),
            "lut": np.array(v.find("noiseRangeLut").text.split(), dtype=float),
        })
    return out


def noise_azimuth_blocks(path: Path) -> list[dict]:
    root = ET.parse(path).getroot()
    out = []
    for v in root.iter("noiseAzimuthVector"):
        out.append({
            "swath": v.find("swath").text,
            "first_line": int(v.find("firstAzimuthLine").text),
            "last_line": int(v.find("lastAzimuthLine").text),
            "first_sample": int(v.find("firstRangeSample").text),
            "last_sample": int(v.find("lastRangeSample").text),
            "line": np.array(v.find("line").text.split(), dtype=int),
            "lut": np.array(v.find("noiseAzimuthLut").text.split(), dtype=float),
        })
    return out


def image_size(path: Path) -> tuple[int, int]:
    root = ET.parse(path).getroot()
    info = root.find("imageAnnotation/imageInformation")
    return int(info.find("numberOfLines").text), int(info.find("numberOfSamples").text)


def bursts(path: Path) -> dict:
    root = ET.parse(path).getroot()
    timing = root.find("swathTiming")
    return {
        "lines_per_burst": int(timing.find("linesPerBurst").text),
        "count": len(timing.find("burstList")),
        "first_valid": [np.array(b.find("firstValidSample").text.split(), dtype=int)
                        for b in timing.find("burstList")],
        "last_valid": [np.array(b.find("lastValidSample").text.split(), dtype=int)
                       for b in timing.find("burstList")],
        "azimuth_time": [np.datetime64(b.find("azimuthTime").text, "ns")
                         for b in timing.find("burstList")],
    }
