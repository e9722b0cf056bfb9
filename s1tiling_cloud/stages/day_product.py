"""The tags of a day's tile product, from the tags of the orthorectified images it is made of.

A day's product (tile × polarisation × relative orbit × day) is written by the `ortho` stage
itself when the day has one product (S1Tiling just renames that image) or, with the native
engine, several (`day_fusion`), and by the `concatenate` stage from the per-image images with
OTB's engine. All must give the product the very same tags, so all build them here:
`IMAGE_TYPE=BACKSCATTERING`, `INPUT_S1_IMAGES`, `ACQUISITION_DATETIME` and
`ACQUISITION_DATETIME_1..N` rebuilt from the images (`backscatter_tags`), and every other key
of the earliest image (`[Metadata]` keys included) carried, as S1Tiling carries metadata down
its pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ..exceptions import NotCompatibleInput
from ..outputs.metadata import PROVENANCE_KEYS, Provenance, backscatter_tags, complete_tags
from ..outputs.names import ProductName, S1Image, tile_fields

#: `Store.write_cog`'s encoding of a day's product: S1Tiling's DEFLATE, with overviews.
PRODUCT_ENCODING = {"overviews": "auto", "compress": "DEFLATE"}
#: That of a day's product NORMLIM or γ° RTC reads once (the β° / σ° in tmp), as the per-image
#: images are encoded: ZSTD without overviews, 4–5 CPU s less per 10 m tile to write.
INTERMEDIATE_ENCODING = {"overviews": None, "compress": "ZSTD"}

# Keys the images of one product must agree on: the product's tags say them once.
_SHARED_KEYS = ("S2_TILE_CORRESPONDING_CODE", "CALIBRATION", "NOISE_REMOVED", "LOWER_SIGNAL_VALUE",
                "ORTHORECTIFICATION_INTERPOLATOR", "SPATIAL_RESOLUTION", "DEM_INFO")
# Keys of an image that describe that very file, not the product: never carried.
_NOT_CARRIED = re.compile(r"^(ACQUISITION_DATETIME_\d+|AREA_OR_POINT|TIFFTAG_\w+|"
                          r"S1TILING_COMPATIBLE_VERSION|" + "|".join(PROVENANCE_KEYS) + r")$")


def image_of(tags: Mapping[str, str], uri: str) -> S1Image:
    """The S1 image an orthorectified image was made from, as its tags record it.

    Parameters
    ----------
    tags : mapping
        The image's tags (as the `ortho` stage writes them).
    uri : str
        Where the image is (for the error message only).
    """
    try:
        product = ProductName.parse(tags["INPUT_S1_IMAGES"])
        start = _stamp(tags["ACQUISITION_DATETIME"])
        measurement = (f"{tags['FLYING_UNIT_CODE']}-{product.mode.lower()}-"
                       f"{product.product_type[:3].lower()}-{tags['POLARIZATION']}-{start}-"
                       f"{product.stop.strftime('%Y%m%dt%H%M%S')}-{product.absolute_orbit:06d}-"
                       f"{product.datatake.lower()}-001.tiff")
        return S1Image(measurement, tags["ORBIT_DIRECTION"], product=product.name,
                       relative_orbit=int(tags["RELATIVE_ORBIT_NUMBER"]),
                       absolute_orbit=int(tags["ORBIT_NUMBER"]))
    except (KeyError, ValueError) as error:
        raise NotCompatibleInput(f"{uri} is not an orthorectified image of one S1 product "
                                 f"(made by the `ortho` stage): {error}") from None


def _stamp(acquisition_datetime: str) -> str:
    """`2020:01:08T04:41:50Z` → `20200108t044150` (the name stamp it was made from)."""
    match = re.fullmatch(r"(\d{4}):(\d\d):(\d\d)T(\d\d):(\d\d):(\d\d)Z", acquisition_datetime)
    if not match:
        raise ValueError(f"not an ACQUISITION_DATETIME: {acquisition_datetime!r}")
    y, m, d, hh, mm, ss = match.groups()
    return f"{y}{m}{d}t{hh}{mm}{ss}"


def product_fields(images: Sequence[S1Image], sources: Sequence[Mapping[str, str]],
                   uris: Sequence[str], tile: str) -> dict[str, str]:
    """Name fields of the day's product; `NotCompatibleInput` unless the images make one
    S1Tiling product.

    Parameters
    ----------
    images : sequence of S1Image
        The images (`image_of` their tags).
    sources : sequence of mappings
        Their tags.
    uris : sequence of str
        Where they are (for error messages).
    tile : str
        The S2 tile of the product.
    """
    for key in _SHARED_KEYS:
        values = {tags.get(key) for tags in sources}
        if len(values) > 1:
            raise NotCompatibleInput(f"inputs differ in {key} ({sorted(map(str, values))}): "
                                     f"{list(uris)}")
    if sources[0].get("S2_TILE_CORRESPONDING_CODE", tile) != tile:
        raise NotCompatibleInput(f"inputs are on tile {sources[0]['S2_TILE_CORRESPONDING_CODE']}, "
                                 f"not {tile}: {list(uris)}")
    try:
        return tile_fields(list(images), tile)
    except ValueError as error:  # another polarisation, orbit, direction or day
        raise NotCompatibleInput(f"{error}: {list(uris)}") from None


def day_product_tags(images: Sequence[S1Image], sources: Sequence[Mapping[str, str]], tile: str,
                     metadata: Mapping[str, str], provenance: Provenance) -> dict[str, str]:
    """The complete tags of the day's product made of `images` (S1Tiling's concatenation
    metadata, the earliest image's other keys carried, `metadata` over them, `provenance`).

    Parameters
    ----------
    images : sequence of S1Image
        The product's images (`image_of` their tags).
    sources : sequence of mappings
        Their tags, in the same order.
    tile : str
        The S2 tile.
    metadata : mapping
        The request's `[Metadata]` keys (they win over the carried ones).
    provenance : Provenance
        What the writing stage records.
    """
    earliest = sources[min(range(len(images)), key=lambda k: images[k].acquisition_time)]
    try:
        lower = earliest.get("LOWER_SIGNAL_VALUE")
        product = backscatter_tags(
            images, tile_name=tile, calibration=earliest["CALIBRATION"],
            noise_removed=earliest["NOISE_REMOVED"] == "True",
            lower_signal_value=float(lower) if lower else None,
            interpolator=earliest["ORTHORECTIFICATION_INTERPOLATOR"],
            spatial_resolution=float(earliest["SPATIAL_RESOLUTION"]),
            dem_info=earliest.get("DEM_INFO", ""), concatenated=True)
    except (KeyError, ValueError) as error:
        raise NotCompatibleInput(f"an input lacks the ortho key {error}") from None
    carried = {k: v for k, v in earliest.items() if not _NOT_CARRIED.match(k) and k not in product}
    return complete_tags(product, extra={**carried, **metadata}, provenance=provenance)
