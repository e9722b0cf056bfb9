"""Groups (`group.Group`: numpy arrays, no xarray) from a product annotation XML: orbit,
attitude, geolocation grid, antenna pattern, Doppler centroid, azimuth FM rate, slant↔ground
range conversion and burst timing.

Names are the XML tags in snake case; every variable has `long_name` "<words> (<xmlTag>)" and
`units`. Times are UTC datetime64[ns] (`azimuth_time`) or float64 seconds (`slant_range_time`,
two-way), never timedelta: 1 ns of two-way time is 15 cm, too coarse for SAR geometry.
"""

from __future__ import annotations

import numpy as np

from . import xmlnodes as x
from .group import Group

SPEED_OF_LIGHT = 299_792_458.0

AZIMUTH_TIME_ATTRS = {"long_name": "zero Doppler azimuth time (azimuthTime)", "standard_name": "time"}
SLANT_RANGE_TIME_ATTRS = {"long_name": "two way delay (slantRangeTime)", "units": "s"}


def attrs(tag: str, units: str | None = None, words: str | None = None) -> dict[str, str]:
    """CF attributes naming the XML tag the values come from."""
    out = {"long_name": f"{words or x.snake(tag).replace('_', ' ')} ({tag})"}
    if units is not None:
        out["units"] = units
    return out


def image_information(root) -> dict:
    """Scalars of the annotation that every group of a swath carries as attributes."""
    info = x.find(root, "imageAnnotation/imageInformation")
    product = x.find(root, "generalAnnotation/productInformation")
    timing = x.find(root, "swathTiming")
    out = {
        "swath": x.text(root, "adsHeader/swath"),
        "polarisation": x.text(root, "adsHeader/polarisation"),
        "product_first_line_utc_time": x.text(info, "productFirstLineUtcTime"),
        "product_last_line_utc_time": x.text(info, "productLastLineUtcTime"),
        "ascending_node_time": x.text(info, "ascendingNodeTime"),
        "slant_range_time": x.number(info, "slantRangeTime"),
        "range_pixel_spacing": x.number(info, "rangePixelSpacing"),
        "azimuth_pixel_spacing": x.number(info, "azimuthPixelSpacing"),
        "azimuth_time_interval": x.number(info, "azimuthTimeInterval"),
        "azimuth_frequency": x.number(info, "azimuthFrequency"),
        "number_of_samples": x.integer(info, "numberOfSamples"),
        "number_of_lines": x.integer(info, "numberOfLines"),
        "incidence_angle_mid_swath": x.number(info, "incidenceAngleMidSwath"),
        "pixel_value": x.text(info, "pixelValue"),
        "projection": x.text(product, "projection"),
        "pass": x.text(product, "pass"),
        "platform_heading": x.number(product, "platformHeading"),
        "range_sampling_rate": x.number(product, "rangeSamplingRate"),
        "radar_frequency": x.number(product, "radarFrequency"),
        "azimuth_steering_rate": x.number(product, "azimuthSteeringRate"),
        "lines_per_burst": x.integer(timing, "linesPerBurst", 0) if timing is not None else 0,
        "samples_per_burst": x.integer(timing, "samplesPerBurst", 0) if timing is not None else 0,
    }
    return {k: v for k, v in out.items() if v is not None}


def _azimuth_coord(values: np.ndarray) -> tuple:
    return ("azimuth_time", values, AZIMUTH_TIME_ATTRS)


def orbit(root) -> Group:
    """State vectors (`orbitList`): position and velocity in the Earth-fixed frame."""
    nodes = x.findall(root, "generalAnnotation/orbitList/orbit")
    position = np.stack([x.column(nodes, f"position/{a}") for a in "xyz"], axis=-1)
    velocity = np.stack([x.column(nodes, f"velocity/{a}") for a in "xyz"], axis=-1)
    frames = {x.text(n, "frame") for n in nodes}
    return Group(
        {
            "position": (("azimuth_time", "axis"), position, attrs("position", "m")),
            "velocity": (("azimuth_time", "axis"), velocity, attrs("velocity", "m s-1")),
        },
        coords={
            "azimuth_time": _azimuth_coord(x.column(nodes, "time", np.datetime64)),
            "axis": ("axis", ["x", "y", "z"], {"long_name": "Earth-fixed axis"}),
        },
        attrs={"reference_system": ",".join(sorted(f for f in frames if f))},
    )


def attitude(root) -> Group:
    """Platform attitude (`attitudeList`): quaternions, angular rates, roll/pitch/yaw."""
    nodes = x.findall(root, "generalAnnotation/attitudeList/attitude")
    units = {"q0": "1", "q1": "1", "q2": "1", "q3": "1", "wx": "deg s-1", "wy": "deg s-1",
             "wz": "deg s-1", "roll": "deg", "pitch": "deg", "yaw": "deg"}
    data = {k: ("azimuth_time", x.column(nodes, k), attrs(k, u)) for k, u in units.items()}
    frames = {x.text(n, "frame") for n in nodes}
    return Group(
        data,
        coords={"azimuth_time": _azimuth_coord(x.column(nodes, "time", np.datetime64))},
        attrs={"reference_system": ",".join(sorted(f for f in frames if f))},
    )


def gcp(root) -> Group:
    """The geolocation grid on its (line, pixel) nodes, each node with its own exact times.

    ESA's grid is regular in (line, pixel) but not in time: flattening `azimuthTime` and
    `slantRangeTime` onto 1-D axes misplaces GRD points by hundreds of metres in range.
    """
    nodes = x.findall(root, "geolocationGrid/geolocationGridPointList/geolocationGridPoint")
    line = x.column(nodes, "line", np.int64)
    pixel = x.column(nodes, "pixel", np.int64)
    lines, pixels = np.unique(line), np.unique(pixel)
    shape = (lines.size, pixels.size)
    if lines.size * pixels.size != len(nodes):
        raise ValueError("geolocation grid is not a full (line, pixel) grid")
    order = np.lexsort((pixel, line))

    def grid(tag: str, dtype=np.float64) -> np.ndarray:
        return x.column(nodes, tag, dtype)[order].reshape(shape)

    dims = ("line", "pixel")
    return Group(
        {
            "latitude": (dims, grid("latitude"), attrs("latitude", "degrees_north")),
            "longitude": (dims, grid("longitude"), attrs("longitude", "degrees_east")),
            "height": (dims, grid("height"), attrs("height", "m", "height above the ellipsoid")),
            "incidence_angle": (dims, grid("incidenceAngle"), attrs("incidenceAngle", "deg")),
            "elevation_angle": (dims, grid("elevationAngle"), attrs("elevationAngle", "deg")),
        },
        coords={
            "line": ("line", lines, attrs("line", "1", "image line")),
            "pixel": ("pixel", pixels, attrs("pixel", "1", "image pixel")),
            "azimuth_time": (dims, grid("azimuthTime", np.datetime64), AZIMUTH_TIME_ATTRS),
            "slant_range_time": (dims, grid("slantRangeTime"), SLANT_RANGE_TIME_ATTRS),
        },
    )


def antenna(root) -> Group:
    """Antenna elevation pattern records (`antennaPatternList`), one per swath and time."""
    nodes = x.findall(root, "antennaPattern/antennaPatternList/antennaPattern")

    def rows(tag: str) -> np.ndarray:
        return x.ragged([x.vector(n, tag) for n in nodes])

    patterns = []
    for n in nodes:
        values = x.vector(n, "elevationPattern")
        count = x.vector(n, "slantRangeTime").size
        patterns.append(values[0::2] + 1j * values[1::2] if values.size == 2 * count else values)
    dims = ("pattern", "sample")
    return Group(
        {
            "slant_range_time": (dims, rows("slantRangeTime"), SLANT_RANGE_TIME_ATTRS),
            "elevation_angle": (dims, rows("elevationAngle"), attrs("elevationAngle", "deg")),
            "elevation_pattern": (dims, x.ragged(patterns), attrs("elevationPattern", "1")),
            "incidence_angle": (dims, rows("incidenceAngle"), attrs("incidenceAngle", "deg")),
            "terrain_height": ("pattern", x.column(nodes, "terrainHeight"),
                               attrs("terrainHeight", "m")),
            "roll": ("pattern", x.column(nodes, "roll"), attrs("roll", "deg")),
        },
        coords={
            "swath": ("pattern", x.column(nodes, "swath", str).astype(str), attrs("swath")),
            "azimuth_time": ("pattern", x.column(nodes, "azimuthTime", np.datetime64),
                             AZIMUTH_TIME_ATTRS),
        },
    )


def dc_estimate(root) -> Group:
    """Doppler centroid estimates (`dcEstimateList`): polynomials in (slantRangeTime - t0)."""
    nodes = x.findall(root, "dopplerCentroid/dcEstimateList/dcEstimate")
    return Group(
        {
            "t0": ("azimuth_time", x.column(nodes, "t0"), attrs("t0", "s", "polynomial origin")),
            "geometry_dc_polynomial": (
                ("azimuth_time", "degree"), x.ragged([x.vector(n, "geometryDcPolynomial")
                                                      for n in nodes]),
                attrs("geometryDcPolynomial", "Hz"),
            ),
            "data_dc_polynomial": (
                ("azimuth_time", "degree"), x.ragged([x.vector(n, "dataDcPolynomial")
                                                      for n in nodes]),
                attrs("dataDcPolynomial", "Hz"),
            ),
            "data_dc_rms_error": ("azimuth_time", x.column(nodes, "dataDcRmsError"),
                                  attrs("dataDcRmsError", "Hz")),
        },
        coords={"azimuth_time": _azimuth_coord(x.column(nodes, "azimuthTime", np.datetime64))},
    )


def azimuth_fm_rate(root) -> Group:
    """Azimuth FM rate (`azimuthFmRateList`); old IPFs write c0, c1, c2 instead of a list."""
    nodes = x.findall(root, "generalAnnotation/azimuthFmRateList/azimuthFmRate")
    polys = []
    for n in nodes:
        poly = x.vector(n, "azimuthFmRatePolynomial")
        polys.append(poly if poly.size else np.array([x.number(n, c) for c in ("c0", "c1", "c2")]))
    return Group(
        {
            "t0": ("azimuth_time", x.column(nodes, "t0"), attrs("t0", "s", "polynomial origin")),
            "azimuth_fm_rate_polynomial": (
                ("azimuth_time", "degree"), x.ragged(polys),
                attrs("azimuthFmRatePolynomial", "Hz s-1"),
            ),
        },
        coords={"azimuth_time": _azimuth_coord(x.column(nodes, "azimuthTime", np.datetime64))},
    )


def doppler(root) -> Group:
    """Doppler centroid and azimuth FM rate together, each on its own time axis."""
    dc = dc_estimate(root).renamed({"azimuth_time": "dc_azimuth_time", "t0": "dc_t0",
                                    "degree": "dc_degree"})
    fm = azimuth_fm_rate(root).renamed({"azimuth_time": "fm_azimuth_time", "t0": "fm_t0",
                                        "degree": "fm_degree"})
    return dc.merged(fm)


def coordinate_conversion(root) -> Group:
    """GRD slant↔ground range polynomials (`coordinateConversionList`), metres both ways."""
    nodes = x.findall(root, "coordinateConversion/coordinateConversionList/coordinateConversion")
    dims = ("azimuth_time", "degree")
    return Group(
        {
            "slant_range_time": ("azimuth_time", x.column(nodes, "slantRangeTime"),
                                 SLANT_RANGE_TIME_ATTRS),
            "sr0": ("azimuth_time", x.column(nodes, "sr0"), attrs("sr0", "m", "slant range origin")),
            "srgr_coefficients": (dims, x.ragged([x.vector(n, "srgrCoefficients") for n in nodes]),
                                  attrs("srgrCoefficients", "m", "slant to ground range")),
            "gr0": ("azimuth_time", x.column(nodes, "gr0"),
                    attrs("gr0", "m", "ground range origin")),
            "grsr_coefficients": (dims, x.ragged([x.vector(n, "grsrCoefficients") for n in nodes]),
                                  attrs("grsrCoefficients", "m", "ground to slant range")),
        },
        coords={"azimuth_time": _azimuth_coord(x.column(nodes, "azimuthTime", np.datetime64))},
    )


def swath_timing(root) -> Group:
    """TOPS burst records (`swathTiming/burstList`) with each line's valid sample range."""
    timing = x.find(root, "swathTiming")
    nodes = x.findall(root, "swathTiming/burstList/burst")
    lines_per_burst = x.integer(timing, "linesPerBurst", 0) if timing is not None else 0
    first = x.ragged([x.vector(n, "firstValidSample", np.int64) for n in nodes], fill=-1)
    last = x.ragged([x.vector(n, "lastValidSample", np.int64) for n in nodes], fill=-1)
    dims = ("burst", "line_in_burst")
    return Group(
        {
            "azimuth_anx_time": ("burst", x.column(nodes, "azimuthAnxTime"),
                                 attrs("azimuthAnxTime", "s", "time since ascending node")),
            "sensing_time": ("burst", x.column(nodes, "sensingTime", np.datetime64),
                             attrs("sensingTime", None)),
            "byte_offset": ("burst", x.column(nodes, "byteOffset", np.int64),
                            attrs("byteOffset", "byte")),
            "first_valid_sample": (dims, first.astype(np.int64).reshape(len(nodes), -1),
                                   attrs("firstValidSample", "1")),
            "last_valid_sample": (dims, last.astype(np.int64).reshape(len(nodes), -1),
                                  attrs("lastValidSample", "1")),
        },
        coords={
            "burst": ("burst", np.arange(len(nodes))),
            "azimuth_time": ("burst", x.column(nodes, "azimuthTime", np.datetime64),
                             AZIMUTH_TIME_ATTRS),
        },
        attrs={
            "lines_per_burst": lines_per_burst,
            "samples_per_burst": x.integer(timing, "samplesPerBurst", 0) if timing is not None
            else 0,
        },
    )
