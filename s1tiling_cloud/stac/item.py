"""One STAC item per final product (tile × relative orbit × acquisition day).

Everything is read from the products themselves (their GeoTIFF tags, as S1Tiling writes them,
their grid and their pixels), so that an item made at publication time and one rebuilt later
from the outputs are the same. Assets are the product's polarisations (`vv`, `vh`...), border
masks (`mask_vv`), quicklooks (`quicklook_vv`, role `thumbnail`) and the correction maps used
(`sin_LIA`, `gamma_area`...). Extensions as pystac 1.15 writes them: SAR, SAT, projection,
raster, file, processing, MGRS; how the product was made (calibration, noise removal, engine,
filter) is in `s1tiling:*` properties.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pystac
import rasterio
from pystac.extensions.file import FileExtension
from pystac.extensions.mgrs import MgrsExtension
from pystac.extensions.processing import ProcessingExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, NoDataStrings, RasterBand, RasterExtension
from pystac.extensions.sar import FrequencyBand, ObservationDirection, Polarization, SarExtension
from pystac.extensions.sat import OrbitState, SatExtension

from .. import __version__
from ..exceptions import NotCompatibleInput
from ..outputs.metadata import S1TILING_COMPATIBLE_VERSION
from ..outputs.names import ProductName, split_tile_name
from ..store import COG_MEDIA_TYPE, Store
from .checksums import file_info, hashing
from .footprint import valid_footprint
from .hrefs import consumer_href

__all__ = ["ProductFiles", "build_item", "collection_id", "item_id", "CALIBRATION_KINDS"]

#: `CALIBRATION` tag → the calibration kind that names a collection, and a title for it.
CALIBRATION_KINDS: Mapping[str, tuple[str, str]] = {
    "sigma": ("sigma0", "σ° backscatter"),
    "beta": ("beta0", "β° backscatter"),
    "gamma": ("gamma0", "γ° backscatter"),
    "dn": ("dn", "digital numbers"),
    "Normlim": ("sigma0-normlim", "σ° NORMLIM (local incidence angle corrected) backscatter"),
    "GammaNaughtRTC": ("gamma0-rtc", "γ°T radiometrically terrain corrected backscatter"),
}
#: Sentinel-1's C-band SAR centre frequency (GHz).
CENTER_FREQUENCY_GHZ = 5.405
#: IW GRD high resolution: ESA's resolution (range, azimuth; m) and looks (range, azimuth, ENL).
_IW_GRDH = {"resolution": (20.0, 22.0), "looks": (5, 1, 4.4)}
_POLARISATION = re.compile(r"_(?:hh|hv|vh|vv)(?=_)")


@dataclass(frozen=True)
class ProductFiles:
    """The files of one final product, as the publish stage receives them (URIs)."""

    products: Mapping[str, str]  # polarisation -> final product COG
    masks: Mapping[str, str] = field(default_factory=dict)  # polarisation -> border mask
    quicklooks: Mapping[str, str] = field(default_factory=dict)  # polarisation -> JPEG
    maps: Mapping[str, str] = field(default_factory=dict)  # e.g. sin_LIA, gamma_area -> COG
    inputs: Sequence[Mapping[str, Any]] = ()  # S1 products used: {"id", "href", "provider"}


def item_id(product_uri: str) -> str:
    """The S1Tiling name of a product without its polarisation nor extension."""
    name = product_uri.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return _POLARISATION.sub("", name, count=1)


def collection_id(tags: Mapping[str, str]) -> str:
    """One collection per calibration kind (despeckled products apart: other pixels)."""
    calibration = tags.get("CALIBRATION", "")
    if calibration not in CALIBRATION_KINDS:
        raise NotCompatibleInput(f"unknown CALIBRATION {calibration!r}: not a final product")
    suffix = "-filtered" if tags.get("FILTERED", "").lower() == "true" else ""
    return f"s1tiling-{CALIBRATION_KINDS[calibration][0]}{suffix}"


def build_item(files: ProductFiles, store: Store, *, public_url: str | None = None,
               processing: Mapping[str, Any] | None = None,
               facility: str = "s1tiling-cloud") -> pystac.Item:
    """The STAC item of one product; `processing`: facts the tags lack (e.g. `engine`)."""
    if not files.products:
        raise NotCompatibleInput("a STAC item needs at least one product")
    # The files are hashed in threads while the item's other facts are read (`checksums`).
    with hashing(store, [*files.products.values(), *files.masks.values(),
                         *files.quicklooks.values(), *files.maps.values()]) as checksums:
        return _item(files, store, checksums, public_url, processing or {}, facility)


def _item(files: ProductFiles, store: Store, checksums: Mapping[str, Future],
          public_url: str | None, processing: Mapping[str, Any], facility: str) -> pystac.Item:
    """`build_item`'s item, the files' sizes and checksums taken from `checksums`."""
    pols = sorted(files.products, key=lambda p: (p.lower() not in ("vv", "hh"), p.lower()))
    tags = {pol: store.read_tags(files.products[pol]) for pol in pols}
    first = tags[pols[0]]
    ids = {item_id(uri) for uri in files.products.values()}
    if len(ids) != 1:
        raise NotCompatibleInput(f"products of one item must share a name but polarisation: {ids}")
    footprint = valid_footprint(store, files.masks.get(pols[0]) or files.products[pols[0]])
    start, end, moment = _times(first)
    item = pystac.Item(id=ids.pop(), geometry=footprint.geometry, bbox=footprint.bbox,
                       datetime=moment, start_datetime=start, end_datetime=end,
                       properties={}, collection=collection_id(first))
    _common(item, first)
    _sar(item, first, [p.upper() for p in pols])
    _sat(item, first)
    _mgrs(item, first["S2_TILE_CORRESPONDING_CODE"])
    _processing(item, first, processing, facility)
    item.properties["s1tiling:valid_fraction"] = footprint.valid_fraction
    _projection(item, store, files.products[pols[0]])
    for pol in pols:
        _data_asset(item, store, pol, files.products[pol], tags[pol], public_url, checksums)
    for pol, uri in sorted(files.masks.items()):
        _file_asset(item, store, f"mask_{pol.lower()}", uri, public_url, media_type=COG_MEDIA_TYPE,
                    roles=["data-mask"], title=f"{pol.upper()} border mask (1: valid)",
                    bands=[RasterBand.create(data_type=DataType.UINT8, unit="1")],
                    checksums=checksums)
    for pol, uri in sorted(files.quicklooks.items()):
        _file_asset(item, store, f"quicklook_{pol.lower()}", uri, public_url,
                    media_type=pystac.MediaType.JPEG, roles=["thumbnail", "overview"],
                    title=f"{pol.upper()} quicklook", checksums=checksums)
    for name, uri in sorted(files.maps.items()):
        _map_asset(item, store, name, uri, public_url, checksums)
    for source in files.inputs:
        item.add_link(pystac.Link("derived_from", str(source["href"]), title=str(source["id"]),
                                  extra_fields={"s1tiling:provider": source.get("provider")}
                                  if source.get("provider") else None))
    return item


# --------------------------------------------------------------------------- properties

def _times(tags: Mapping[str, str]) -> tuple[datetime, datetime, datetime]:
    """(start, end, datetime): the inputs' first start and last stop; S1Tiling's acquisition time."""
    moment = _tag_time(tags["ACQUISITION_DATETIME"])
    starts, stops = [moment], [moment]
    for name in _input_names(tags):
        try:
            product = ProductName.parse(name)
        except ValueError:
            continue
        starts.append(product.start)
        stops.append(max(product.stop, product.start))
    return min(starts), max(stops), moment


def _tag_time(value: str) -> datetime:
    """`2020:01:08T04:41:50Z` (S1Tiling's ACQUISITION_DATETIME) or `2020:01:08 04:41:50`."""
    text = value.strip().rstrip("Z").replace("T", " ")
    return datetime.strptime(text, "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)


def _input_names(tags: Mapping[str, str]) -> list[str]:
    return [name.strip() for name in tags.get("INPUT_S1_IMAGES", "").split(",") if name.strip()]


def _common(item: pystac.Item, tags: Mapping[str, str]) -> None:
    unit = tags.get("FLYING_UNIT_CODE", "s1a").lower()
    item.common_metadata.platform = f"sentinel-1{unit[-1]}"
    item.common_metadata.constellation = "sentinel-1"
    item.common_metadata.instruments = ["c-sar"]
    item.common_metadata.gsd = float(tags["SPATIAL_RESOLUTION"])
    if "TIFFTAG_DATETIME" in tags:
        item.common_metadata.created = _tag_time(tags["TIFFTAG_DATETIME"])


def _sar(item: pystac.Item, tags: Mapping[str, str], pols: list[str]) -> None:
    names = _input_names(tags)
    kind = ProductName.parse(names[0]) if names else None
    grdh = kind is not None and kind.mode == "IW" and kind.product_type == "GRDH"
    spacing = float(tags["SPATIAL_RESOLUTION"])
    looks = _IW_GRDH["looks"] if grdh else (None, None, None)
    resolution = _IW_GRDH["resolution"] if grdh else (None, None)
    SarExtension.ext(item, add_if_missing=True).apply(
        instrument_mode=kind.mode if kind else "IW", frequency_band=FrequencyBand.C,
        polarizations=[Polarization(p) for p in pols],
        product_type=kind.product_type[:3] if kind else "GRD",
        center_frequency=CENTER_FREQUENCY_GHZ, resolution_range=resolution[0],
        resolution_azimuth=resolution[1], pixel_spacing_range=spacing,
        pixel_spacing_azimuth=spacing, looks_range=looks[0], looks_azimuth=looks[1],
        looks_equivalent_number=looks[2], observation_direction=ObservationDirection.RIGHT)


def _sat(item: pystac.Item, tags: Mapping[str, str]) -> None:
    state = OrbitState.ASCENDING if tags["ORBIT_DIRECTION"].upper().startswith("ASC") \
        else OrbitState.DESCENDING
    SatExtension.ext(item, add_if_missing=True).apply(
        orbit_state=state, relative_orbit=int(tags["RELATIVE_ORBIT_NUMBER"]),
        absolute_orbit=int(tags["ORBIT_NUMBER"]) if tags.get("ORBIT_NUMBER") else None)


def _mgrs(item: pystac.Item, tile: str) -> None:
    parts = split_tile_name(tile)
    if parts is None:
        raise NotCompatibleInput(f"not an MGRS tile name: {tile!r}")
    zone, band, column, row = parts
    MgrsExtension.ext(item, add_if_missing=True).apply(
        latitude_band=band, grid_square=column + row, utm_zone=zone)


def _processing(item: pystac.Item, tags: Mapping[str, str], facts: Mapping[str, Any],
                facility: str) -> None:
    """How the product was made: `processing:*`, and S1Tiling's own keys as `s1tiling:*`."""
    props = item.properties
    props["s1tiling:calibration"] = tags["CALIBRATION"]
    props["s1tiling:noise_removed"] = tags.get("NOISE_REMOVED", "False") == "True"
    if tags.get("LOWER_SIGNAL_VALUE"):
        props["s1tiling:lower_signal_value"] = float(tags["LOWER_SIGNAL_VALUE"])
    props["s1tiling:orthorectification_interpolator"] = tags.get("ORTHORECTIFICATION_INTERPOLATOR")
    props["s1tiling:dem"] = tags.get("DEM_INFO")
    props["s1tiling:input_s1_images"] = _input_names(tags)
    props["s1tiling:compatible_version"] = tags.get("S1TILING_COMPATIBLE_VERSION",
                                                    S1TILING_COMPATIBLE_VERSION)
    for key in ("LIA_FILE", "GAMMA_AREA_FILE"):
        if tags.get(key):
            props[f"s1tiling:{key.lower()}"] = tags[key]
    if tags.get("FILTERED", "").lower() == "true":
        props["s1tiling:filter"] = {k: v for k, v in {
            "method": tags.get("FILTERING_METHOD"),
            "window_radius": _number(tags.get("FILTERING_WINDOW_RADIUS")),
            "nblooks": _number(tags.get("FILTERING_NBLOOKS")),
            "deramp": _number(tags.get("FILTERING_DERAMP"))}.items() if v is not None}
    for key, value in facts.items():  # e.g. engine: the tags do not say which one ran
        props[f"s1tiling:{key}"] = value
    software = {"s1tiling-cloud": __version__, "gdal": rasterio.__gdal_version__,
                "s1tiling (compatible)": props["s1tiling:compatible_version"]}
    if facts.get("otb_version"):
        software["orfeo-toolbox"] = str(facts["otb_version"])
    made = _tag_time(tags["TIFFTAG_DATETIME"]) if "TIFFTAG_DATETIME" in tags else None
    ProcessingExtension.ext(item, add_if_missing=True).apply(
        level="L2", facility=facility, software=software, version=__version__,
        lineage=_lineage(tags), processing_datetime=made)
    for key in [k for k, v in props.items() if v is None]:
        del props[key]


def _number(value: str | None) -> float | int | None:
    if value is None or value == "":
        return None
    number = float(value)
    return int(number) if number.is_integer() and "." not in value else number


def _lineage(tags: Mapping[str, str]) -> str:
    steps = [f"{tags['CALIBRATION']} calibration of Sentinel-1 IW GRD "
             f"({', '.join(_input_names(tags)) or 'unknown inputs'})"]
    if tags.get("NOISE_REMOVED") == "True":
        steps.append("thermal noise removal")
    steps.append(f"orthorectification onto S2 tile {tags['S2_TILE_CORRESPONDING_CODE']} at "
                 f"{tags['SPATIAL_RESOLUTION']} m ({tags.get('ORTHORECTIFICATION_INTERPOLATOR', '?')}"
                 f" interpolation, DEM: {tags.get('DEM_INFO', '?')})")
    steps.append("concatenation of the day's acquisitions of the orbit")
    if tags.get("LIA_FILE"):
        steps.append(f"NORMLIM correction with {tags['LIA_FILE']}")
    if tags.get("GAMMA_AREA_FILE"):
        steps.append(f"terrain flattening (RTC) with {tags['GAMMA_AREA_FILE']}")
    if tags.get("FILTERED", "").lower() == "true":
        steps.append(f"{tags.get('FILTERING_METHOD', '?')} speckle filtering "
                     f"(radius {tags.get('FILTERING_WINDOW_RADIUS', '?')})")
    return "; ".join(steps) + " (S1Tiling's chain, s1tiling-cloud)"


def _projection(item: pystac.Item, store: Store, uri: str) -> None:
    with store.open_raster(uri) as dataset:
        epsg = dataset.crs.to_epsg() if dataset.crs else None
        shape, transform, bounds = [dataset.height, dataset.width], dataset.transform, dataset.bounds
    ProjectionExtension.ext(item, add_if_missing=True).apply(
        epsg=epsg, shape=shape, transform=list(transform)[:6],
        bbox=[bounds.left, bounds.bottom, bounds.right, bounds.top])


# --------------------------------------------------------------------------- assets

def _file_asset(item: pystac.Item, store: Store, key: str, uri: str, public_url: str | None, *,
                media_type: str, roles: list[str], title: str,
                bands: list[RasterBand] | None = None,
                checksums: Mapping[str, Future] | None = None, **extra: Any) -> pystac.Asset:
    """Add the asset `key` (the file `uri`) to `item`, with its size and checksum: those of
    `checksums` ({uri: future of `file_info`}) when it has them, else hashed here."""
    asset = pystac.Asset(consumer_href(uri, public_url), title=title, media_type=media_type,
                         roles=roles, extra_fields=extra or None)
    item.add_asset(key, asset)
    pending = (checksums or {}).get(uri)
    size, checksum = pending.result() if pending is not None else file_info(store, uri)
    FileExtension.ext(asset, add_if_missing=True).apply(size=size, checksum=checksum)
    if bands:
        RasterExtension.ext(asset, add_if_missing=True).apply(bands=bands)
    return asset


def _data_asset(item: pystac.Item, store: Store, pol: str, uri: str, tags: Mapping[str, str],
                public_url: str | None, checksums: Mapping[str, Future] | None = None) -> None:
    kind = CALIBRATION_KINDS[tags["CALIBRATION"]][1]
    band = RasterBand.create(nodata=0, data_type=DataType.FLOAT32, unit="1",
                             spatial_resolution=float(tags["SPATIAL_RESOLUTION"]))
    asset = _file_asset(item, store, pol.lower(), uri, public_url, media_type=COG_MEDIA_TYPE,
                        roles=["data"], title=f"{pol.upper()} {kind} (linear)", bands=[band],
                        checksums=checksums)
    SarExtension.ext(asset).polarizations = [Polarization(pol.upper())]


#: A map's `DATA_TYPE` tag → (unit, scale) of its raster band.
_MAP_UNITS = {"sin(LIA)": ("1", None), "100 * degrees(LIA)": ("deg", 0.01),
              "100 * degrees(IA)": ("deg", 0.01), "cos(IA)": ("1", None), "sin(IA)": ("1", None),
              "tan(IA)": ("1", None), "meters^2": ("m2", None)}


def _map_asset(item: pystac.Item, store: Store, name: str, uri: str, public_url: str | None,
               checksums: Mapping[str, Future] | None = None) -> None:
    with store.open_raster(uri) as dataset:
        tags, dtype, nodata = dict(dataset.tags()), dataset.dtypes[0], dataset.nodata
        resolution = abs(dataset.transform.a)
    unit, scale = _MAP_UNITS.get(tags.get("DATA_TYPE", ""), (None, None))
    if nodata is not None and math.isnan(nodata):  # JSON has no NaN: the extension's "nan"
        nodata = NoDataStrings.NAN
    band = RasterBand.create(nodata=nodata, data_type=DataType(dtype), unit=unit, scale=scale,
                             spatial_resolution=resolution)
    _file_asset(item, store, name, uri, public_url, media_type=COG_MEDIA_TYPE,
                roles=["metadata"], title=tags.get("TIFFTAG_IMAGEDESCRIPTION", name), bands=[band],
                checksums=checksums)


def item_dict(item: pystac.Item) -> dict[str, Any]:
    """The item as plain JSON values (tuples from shapely become lists)."""
    return json.loads(json.dumps(item.to_dict(include_self_link=False, transform_hrefs=False)))
