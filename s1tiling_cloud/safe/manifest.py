"""The product-level facts of `manifest.safe`, and the list of files it declares.

Attribute names follow the STAC SAR and SAT extensions, so that a product's attributes can go
straight into a STAC item.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

import numpy as np

from ..exceptions import CorruptedDataSAFEError, NotSentinel1ProductError
from . import xmlnodes as x

# s1b-iw1-slc-vv-20210401t052624-20210401t052649-026269-032297-004.xml (noise-/calibration-/rfi-)
_FILE_NAME = re.compile(
    r"^(?:(?P<kind>calibration|noise|rfi)-)?(?P<mission>s1[a-d])-(?P<swath>[a-z]+\d?)-"
    r"(?P<product>slc|grd|ocn)-(?P<pol>hh|hv|vh|vv)-.*-(?P<image>\d{3})\.(?P<ext>xml|tiff)$"
)


@dataclass(frozen=True)
class DataFile:
    """One file of the product, with the swath and polarisation its name encodes."""

    kind: str  # "annotation" | "calibration" | "noise" | "rfi" | "measurement"
    swath: str  # upper case: "IW1", "IW" (GRD), "S3", "EW2"; "WV1_001" (one per WV vignette)
    polarisation: str  # upper case: "VV"
    href: str  # relative to the SAFE root, without "./"
    size: int = -1
    md5: str | None = None  # lower-case hex, as the manifest's `checksum` gives it


@dataclass
class Manifest:
    """What `manifest.safe` says of the product."""

    platform: str  # "sentinel-1a"
    mission_letter: str  # "A"
    instrument_mode: str  # "IW"
    swaths: list[str]
    product_type: str  # "SLC" | "GRD"
    product_class: str
    polarizations: list[str]
    start_time: np.datetime64
    stop_time: np.datetime64
    absolute_orbit: int
    relative_orbit: int
    orbit_state: str  # "ascending" | "descending"
    ascending_node_time: np.datetime64
    footprint: list[tuple[float, float]]  # (lon, lat) ring, closed
    ipf_version: str
    timeliness: str
    mission_datatake_id: int
    slice_number: int
    total_slices: int
    files: list[DataFile] = field(default_factory=list)

    @property
    def footprint_wkt(self) -> str:
        coords = ", ".join(f"{lon:.6f} {lat:.6f}" for lon, lat in self.footprint)
        return f"POLYGON (({coords}))"


#: How the swaths of each acquisition mode are named: IW1-3, EW1-5, WV1-2, but S1-S6 in
#: stripmap (SM).
_SWATH_PREFIX = {"SM": "S"}


def parse_manifest(data: bytes, name: str) -> Manifest:
    """Parse a manifest; anything that is not a Sentinel-1 SAFE is a NotSentinel1ProductError."""
    root = x.parse(data, name)
    family = x.text(root, ".//platform/familyName", "") or ""
    if family.upper() != "SENTINEL-1":
        raise NotSentinel1ProductError(name, f"platform family is {family or 'missing'!r}")
    number = x.text(root, ".//platform/number", "") or ""
    mode = x.text(root, ".//instrumentMode/mode", "") or ""
    swaths = [s.text.strip() for s in x.findall(root, ".//instrumentMode/swath") if s.text]
    product_type = x.text(root, ".//standAloneProductInformation/productType", "") or ""
    footprint = _footprint(x.text(root, ".//frameSet/frame/footPrint/coordinates", "") or "")
    software = x.find(root, ".//processing/facility/software")
    files = _data_files(root)
    prefix = _SWATH_PREFIX.get(mode.upper(), mode.upper())
    other = sorted({f.swath for f in files if mode and not f.swath.upper().startswith(prefix)})
    if other:  # e.g. a manifest saying EW over IW files: which one to believe?
        raise CorruptedDataSAFEError(name, f"the manifest says mode {mode} but lists files of "
                                     f"swath(s) {', '.join(other)}")
    return Manifest(
        platform=f"sentinel-1{number.lower()}",
        mission_letter=number.upper(),
        instrument_mode=mode,
        swaths=swaths or sorted({f.swath for f in files}),
        product_type=product_type,
        product_class=x.text(root, ".//standAloneProductInformation/productClass", "") or "",
        polarizations=[
            e.text.strip()
            for e in x.findall(root, ".//standAloneProductInformation/transmitterReceiverPolarisation")
        ],
        start_time=x.time(root, ".//acquisitionPeriod/startTime"),
        stop_time=x.time(root, ".//acquisitionPeriod/stopTime"),
        absolute_orbit=x.integer(root, ".//orbitReference/orbitNumber"),
        relative_orbit=x.integer(root, ".//orbitReference/relativeOrbitNumber"),
        orbit_state=(x.text(root, ".//orbitReference//orbitProperties/pass", "") or "").lower(),
        ascending_node_time=x.time(root, ".//orbitReference//orbitProperties/ascendingNodeTime"),
        footprint=footprint,
        ipf_version=software.get("version", "") if software is not None else "",
        timeliness=x.text(root, ".//standAloneProductInformation/productTimelinessCategory", "")
        or "",
        mission_datatake_id=x.integer(root, ".//standAloneProductInformation/missionDataTakeID"),
        slice_number=x.integer(root, ".//standAloneProductInformation/sliceNumber"),
        total_slices=x.integer(root, ".//standAloneProductInformation/totalSlices"),
        files=files,
    )


def _footprint(coordinates: str) -> list[tuple[float, float]]:
    """gml "lat,lon lat,lon ..." -> closed (lon, lat) ring."""
    ring = []
    for pair in coordinates.split():
        lat, lon = (float(v) for v in pair.split(","))
        ring.append((lon, lat))
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    return ring


def _data_files(root) -> list[DataFile]:
    files = []
    for obj in x.findall(root, ".//dataObjectSection/dataObject"):
        location = x.find(obj, "byteStream/fileLocation")
        if location is None:
            continue
        href = posixpath.normpath(location.get("href", "")).removeprefix("./")
        match = _FILE_NAME.match(posixpath.basename(href))
        if not match:
            continue
        kind = match["kind"] or ("measurement" if match["ext"] == "tiff" else "annotation")
        stream = x.find(obj, "byteStream")
        size = int(stream.get("size", -1)) if stream is not None else -1
        checksum = x.find(obj, "byteStream/checksum")
        md5 = None
        if checksum is not None and (checksum.get("checksumName") or "").upper() == "MD5":
            md5 = (checksum.text or "").strip().lower() or None
        swath = match["swath"].upper()
        if swath.startswith("WV"):  # many vignettes share a swath: the image number tells them apart
            swath = f"{swath}_{match['image']}"
        files.append(DataFile(kind, swath, match["pol"].upper(), href, size, md5))
    return files
