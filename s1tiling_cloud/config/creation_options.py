"""`[Processing] creation_options.<key>`: an optional pixel type, then GDAL creation options.

S1Tiling's syntax is ``[pixeltype] KEY=VAL ...``, items separated by spaces and/or commas, e.g.
``float64 COMPRESS=DEFLATE, BIGTIFF=YES, PREDICTOR=3``. The request keeps the user's string (it
travels in plans as plain data); `CreationOptions.parse` checks it at configuration time and
gives the pixel type and the options a writer needs (`gdal_options()` for `store.write_cog`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..exceptions import ConfigurationError
from .ini import split_list

__all__ = ["CREATION_OPTION_KEYS", "PIXEL_TYPES", "CreationOptions"]

#: S1Tiling's pixel type names and the numpy dtype each one means.
PIXEL_TYPES = {
    "uint8": "uint8", "int16": "int16", "uint16": "uint16", "int32": "int32", "uint32": "uint32",
    "float": "float32", "float32": "float32", "double": "float64", "float64": "float64",
    "cint16": "complex_int16", "cint32": "complex_int32", "cfloat": "complex64", "cdouble": "complex128",
}

#: The keys S1Tiling reads, plus `ia_cos` and `ia_tan` that its docs list and its code forgets.
CREATION_OPTION_KEYS = frozenset({
    "tiled", "filtered", "mask", "s1_lia", "s1_sin_lia", "lia_deg", "lia_sin", "ia_deg", "ia_sin",
    "ia_cos", "ia_tan", "s1_gamma_area", "calibration", "correct_denoising", "cut_borders",
    "orthorectification", "geoid_on_s2", "height_on_s2", "ground_and_sat_s2", "normals_on_s2",
    "ground_and_sat_s2_ellipsoid", "normals_wgs84_on_s2", "height_4rtc", "s1_on_dem", "gamma_area",
    "resampled_dem",
})

_GDAL_OPTION = re.compile(r"[A-Z_0-9]+=")


@dataclass(frozen=True)
class CreationOptions:
    """One parsed `creation_options.<key>`: `pixel_type` (S1Tiling's name) and `KEY=VAL` items."""

    pixel_type: str | None
    gdal: tuple[str, ...]

    @classmethod
    def parse(cls, value: str, key: str = "?", source: str | None = None) -> CreationOptions:
        """Check S1Tiling's syntax; ConfigurationError naming the key (and the file) otherwise."""
        items = split_list(value)
        if not items:
            raise ConfigurationError(f"[Processing] creation_options.{key} is empty", source)
        pixel_type = None
        if items[0].lower() in PIXEL_TYPES:
            pixel_type, items = items[0].lower(), items[1:]
        for item in items:
            if not _GDAL_OPTION.match(item):
                raise ConfigurationError(
                    f"{item} is not a valid GDAL creation option for creation_options.{key} in "
                    f"[Processing]. Expected syntax is `[pixeltype] <OPTIONNAME>=<value> ...`, pixel "
                    f"types: {', '.join(PIXEL_TYPES)}", source)
        return cls(pixel_type, tuple(items))

    @property
    def dtype(self) -> str | None:
        """The numpy name of the pixel type (`float64` for `double`), None when not given."""
        return PIXEL_TYPES[self.pixel_type] if self.pixel_type else None

    def gdal_options(self) -> dict[str, str]:
        """The creation options as a mapping (`{"COMPRESS": "DEFLATE", ...}`)."""
        return dict(item.split("=", 1) for item in self.gdal)

    def as_s1tiling(self) -> dict[str, object]:
        """S1Tiling's `Configuration.creation_options[key]` shape."""
        values: dict[str, object] = {"gdal_options": list(self.gdal)}
        if self.pixel_type:
            values["pixel_type"] = self.pixel_type
        return values
