"""GeoTIFF metadata keys and value formats of spec §4.4, and provenance hashing."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from s1tiling_cloud import __version__
from s1tiling_cloud.outputs.metadata import (
    PROVENANCE_KEYS,
    Provenance,
    acquisition_datetime,
    backscatter_tags,
    complete_tags,
    filtered_tags,
    gamma_area_tags,
    ia_tags,
    lia_tags,
    mask_tags,
    normlim_tags,
    quicklook_tags,
    rtc_tags,
    tiff_datetime,
)
from s1tiling_cloud.outputs.names import S1Image

VH_1 = "s1a-iw-grd-vh-20200108t044150-20200108t044215-030704-038506-002.tiff"
VH_2 = "s1a-iw-grd-vh-20200108t044215-20200108t044240-030704-038506-002.tiff"
PRODUCT_1 = "S1A_IW_GRDH_1SDV_20200108T044150_20200108T044215_030704_038506_5C57"
PRODUCT_2 = "S1A_IW_GRDH_1SDV_20200108T044215_20200108T044240_030704_038506_F2A1"
IMAGE_1 = S1Image(VH_1, "DESCENDING", product=f"s3://raw/{PRODUCT_1}.SAFE")
IMAGE_2 = S1Image(VH_2, "DESCENDING", product=PRODUCT_2)
ORTHO = dict(tile_name="33NWB", calibration="sigma", noise_removed=True, lower_signal_value=1e-7,
             interpolator="nn", spatial_resolution=10.0, dem_info="SRTM 30m")


def test_value_formats():
    assert tiff_datetime(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024:01:02 03:04:05"
    paris = timezone(timedelta(hours=1))
    assert tiff_datetime(datetime(2024, 1, 2, 4, 4, 5, tzinfo=paris)) == "2024:01:02 03:04:05"
    assert len(tiff_datetime()) == 19
    assert acquisition_datetime("20200108t044150") == "2020:01:08T04:41:50Z"
    assert acquisition_datetime("20200108T044150") == "2020:01:08T04:41:50Z"
    assert acquisition_datetime("20200108txxxxxx") == "2020:01:08T00:00:00Z"
    assert acquisition_datetime(datetime(2020, 1, 8, 5, 41, 50, tzinfo=paris)) == "2020:01:08T04:41:50Z"
    with pytest.raises(ValueError):
        acquisition_datetime("2020-01-08")


def test_concatenated_backscatter_of_two_images():
    tags = backscatter_tags([IMAGE_2, IMAGE_1], **ORTHO)
    assert tags == {
        "FLYING_UNIT_CODE": "s1a",
        "RELATIVE_ORBIT_NUMBER": "007",
        "ORBIT_NUMBER": "030704",
        "ORBIT_DIRECTION": "DES",
        "POLARIZATION": "vh",
        "IMAGE_TYPE": "BACKSCATTERING",
        "INPUT_S1_IMAGES": f"{PRODUCT_1}, {PRODUCT_2}",
        "ACQUISITION_DATETIME": "2020:01:08T04:41:50Z",
        "ACQUISITION_DATETIME_1": "2020:01:08T04:41:50Z",
        "ACQUISITION_DATETIME_2": "2020:01:08T04:42:15Z",
        "CALIBRATION": "sigma",
        "NOISE_REMOVED": "True",
        "LOWER_SIGNAL_VALUE": "1e-07",
        "ORTHORECTIFICATION_INTERPOLATOR": "nn",
        "ORTHORECTIFIED": "true",
        "S2_TILE_CORRESPONDING_CODE": "33NWB",
        "SPATIAL_RESOLUTION": "10.0",
        "DEM_INFO": "SRTM 30m",
        "TIFFTAG_IMAGEDESCRIPTION": "sigma calibrated orthorectified Sentinel-1A IW GRD",
    }
    assert backscatter_tags([IMAGE_1, IMAGE_2], **ORTHO) == tags  # order of inputs is irrelevant


def test_single_image_and_per_image_ortho():
    single = backscatter_tags([IMAGE_1], **{**ORTHO, "noise_removed": False})
    assert single["INPUT_S1_IMAGES"] == PRODUCT_1
    assert single["ACQUISITION_DATETIME"] == "2020:01:08T04:41:50Z"
    assert single["ACQUISITION_DATETIME_1"] == "2020:01:08T04:41:50Z"  # S1Tiling's, one image too
    assert "ACQUISITION_DATETIME_2" not in single
    assert single["NOISE_REMOVED"] == "False" and "LOWER_SIGNAL_VALUE" not in single
    ortho = backscatter_tags([IMAGE_1], **{**ORTHO, "calibration": "beta"}, concatenated=False)
    assert ortho["IMAGE_TYPE"] == "GRD" and "ACQUISITION_DATETIME_1" not in ortho
    assert ortho["TIFFTAG_IMAGEDESCRIPTION"] == "beta calibrated orthorectified Sentinel-1A IW GRD"
    with pytest.raises(ValueError):
        backscatter_tags([IMAGE_1, IMAGE_2], **ORTHO, concatenated=False)
    with pytest.raises(ValueError, match="product name"):
        backscatter_tags([S1Image(VH_1, "DES")], **ORTHO)


def _written(tags):
    """Tags as read back from a file made with them."""
    return complete_tags(tags, provenance=Provenance("concatenate", {"a": 1}, ["s3://x/y"]))


def test_normlim_rtc_filtered_mask_quicklook_derive_from_their_input():
    beta = _written(backscatter_tags([IMAGE_1, IMAGE_2], **{**ORTHO, "calibration": "beta"}))
    normlim = normlim_tags(beta, lia_file="s3://bucket/out/_LIA/sin_LIA_33NWB_007.tif")
    assert normlim["CALIBRATION"] == "Normlim"
    assert normlim["LIA_FILE"] == "sin_LIA_33NWB_007.tif"
    assert normlim["IMAGE_TYPE"] == "BACKSCATTERING"
    assert normlim["TIFFTAG_IMAGEDESCRIPTION"] == "Sigma0 Normlim Calibrated Sentinel-1A IW GRD"
    assert normlim["INPUT_S1_IMAGES"] == beta["INPUT_S1_IMAGES"]
    # What belongs to one file is never inherited: time, software, provenance.
    assert not set(normlim) & {"TIFFTAG_DATETIME", "TIFFTAG_SOFTWARE", *PROVENANCE_KEYS}

    rtc = rtc_tags(_written(backscatter_tags([IMAGE_1], **ORTHO)),
                   gamma_area_file="/data/out/_GAMMA_AREA/GAMMA_AREA_33NWB_007.tif")
    assert (rtc["CALIBRATION"], rtc["GAMMA_AREA_FILE"]) == ("GammaNaughtRTC", "GAMMA_AREA_33NWB_007.tif")
    assert rtc["TIFFTAG_IMAGEDESCRIPTION"] == "Gamma0 RTC Calibrated Sentinel-1A IW GRD"

    lee = filtered_tags(normlim, method="Lee", window_radius=2, nblooks=4.0)
    assert {k: lee[k] for k in ("FILTERED", "FILTERING_METHOD", "FILTERING_WINDOW_RADIUS",
                                "FILTERING_NBLOOKS", "IMAGE_TYPE", "CALIBRATION")} == {
        "FILTERED": "true", "FILTERING_METHOD": "lee", "FILTERING_WINDOW_RADIUS": "2",
        "FILTERING_NBLOOKS": "4.0", "IMAGE_TYPE": "BACKSCATTERING", "CALIBRATION": "Normlim"}
    assert "FILTERING_DERAMP" not in lee
    assert lee["TIFFTAG_IMAGEDESCRIPTION"] == "Orthorectified and despeckled Sentinel-1A IW GRD S2 tile"
    frost = filtered_tags(normlim, method="frost", window_radius=1, deramp=0.1)
    assert frost["FILTERING_DERAMP"] == "0.1" and "FILTERING_NBLOOKS" not in frost

    mask = mask_tags(normlim)
    assert mask["IMAGE_TYPE"] == "MASK"
    assert mask["TIFFTAG_IMAGEDESCRIPTION"] == \
        "Orthorectified Sentinel-1A IW GRD smoothed border mask S2 tile"

    ql = quicklook_tags(normlim, ratio=5, scale=0.05)
    assert (ql["IMAGE_TYPE"], ql["QUICKLOOK_SCALE"], ql["QUICKLOOK_PIXEL_RANGE"]) == (
        "QUICKLOOK", "1/20", "0 .. 0.05")
    assert ql["TIFFTAG_IMAGEDESCRIPTION"] == "Quicklook of Sentinel-1A IW GRD S2 tile"  # S1Tiling's
    assert quicklook_tags({}, ratio=7, scale=0.5)["QUICKLOOK_SCALE"] == "7/100"
    assert quicklook_tags({}, ratio=50, scale=0.5)["QUICKLOOK_SCALE"] == "1/2"


def test_lia_ia_and_gamma_area_maps():
    common = dict(tile_name="33NWB", orbit_direction="DESCENDING", relative_orbit=7,
                  spatial_resolution=10)
    sin = lia_tags("sin", **common, dem_info="SRTM 30m", dem_list=["N00E015", "N00E014"],
                   dem_resampling_method="cubic",
                   eof_file="/eof/S1A_OPER_AUX_POEORB_OPOD_20200128T121011_V20200107T225942_20200109T005942.EOF",
                   geoid_interpolator="nn")
    assert sin == {
        "ORBIT_DIRECTION": "DES", "RELATIVE_ORBIT_NUMBER": "007", "ORTHORECTIFIED": "true",
        "S2_TILE_CORRESPONDING_CODE": "33NWB", "SPATIAL_RESOLUTION": "10.0",
        "DATA_TYPE": "sin(LIA)", "IMAGE_TYPE": "LIA", "DEM_INFO": "SRTM 30m",
        "DEM_LIST": "N00E014, N00E015", "DEM_RESAMPLING_METHOD": "cubic",
        "EOF_FILE": "S1A_OPER_AUX_POEORB_OPOD_20200128T121011_V20200107T225942_20200109T005942.EOF",
        "GEOID_ORTHORECTIFICATION_INTERPOLATOR": "nn",
        "TIFFTAG_IMAGEDESCRIPTION": "sin(LIA) on S2 grid"}
    deg = lia_tags("deg", **common, dem_info="", dem_list=[], dem_resampling_method="cubic",
                   eof_file="x.EOF", geoid_interpolator="nn")
    assert deg["DATA_TYPE"] == "100 * degrees(LIA)"
    for kind, data_type in [("deg", "100 * degrees(IA)"), ("cos", "cos(IA)"), ("sin", "sin(IA)"),
                            ("tan", "tan(IA)")]:
        ia = ia_tags(kind, **common, eof_file="x.EOF")
        assert (ia["DATA_TYPE"], ia["IMAGE_TYPE"]) == (data_type, "IA")
        assert not any(key.startswith("DEM_") for key in ia)
    area = gamma_area_tags([IMAGE_1, IMAGE_2], tile_name="33NWB", spatial_resolution=10.0,
                           dem_info="SRTM 30m")
    assert area["DATA_TYPE"] == "meters^2" and area["IMAGE_TYPE"] == "GRD"
    assert area["ACQUISITION_DATETIME_2"] == "2020:01:08T04:42:15Z"
    assert area["DEM_LIST"] == "" and "POLARIZATION" not in area
    assert area["ORBIT_NUMBER"] == "030704" and area["RELATIVE_ORBIT_NUMBER"] == "007"


def test_complete_tags_common_keys_extras_and_provenance():
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    product = backscatter_tags([IMAGE_1], **ORTHO)
    prov = Provenance("concatenate", {"calibration": "sigma"}, ["s3://raw/a.SAFE"])
    tags = complete_tags(product, extra={"PROCESSING_CENTER": "CNES", "CALIBRATION": "mine"},
                         provenance=prov, when=when)
    assert tags["TIFFTAG_DATETIME"] == "2024:05:06 07:08:09"
    assert tags["TIFFTAG_SOFTWARE"] == f"s1tiling-cloud v{__version__}"
    assert tags["S1TILING_COMPATIBLE_VERSION"] == "1.4.2"
    assert tags["PROCESSING_CENTER"] == "CNES"
    assert tags["CALIBRATION"] == "sigma"  # a [Metadata] key never replaces S1Tiling's keys
    assert tags["PROVENANCE_HASH"] == prov.digest
    assert tags["PROVENANCE_INPUTS"] == '["s3://raw/a.SAFE"]'
    assert tags["PROVENANCE_PARAMS"] == '{"calibration":"sigma"}'
    assert tags["PROVENANCE_STAGE"] == "concatenate"
    assert all(isinstance(v, str) for v in tags.values())
    with pytest.raises(ValueError):
        complete_tags(product, extra={"A=B": "c"})


def test_provenance_digest_is_stable_and_sensitive():
    prov = Provenance("ortho", {"resolution": 10.0, "dem": {"name": "srtm", "tiles": ["b", "a"]},
                                "nodata": math.nan}, ["s3://raw/A.SAFE", "/dem/N00E015.hgt"],
                      software="0.1.0")
    # Pinned: the digest is the re-run key of every output already in object storage.
    assert prov.digest == PINNED_DIGEST
    same = Provenance("ortho", {"nodata": float("nan"),
                                "dem": {"tiles": ["b", "a"], "name": "srtm"},
                                "resolution": np.float64(10.0)},
                      ("s3://raw/A.SAFE", Path("/dem/N00E015.hgt")), software="0.1.0")
    assert same.digest == prov.digest
    assert Provenance("ortho", prov.params, prov.inputs).software == __version__
    changed = [Provenance("ortho", {**prov.params, "resolution": 20.0}, prov.inputs, "0.1.0"),
               Provenance("ortho", prov.params, list(reversed(prov.inputs)), "0.1.0"),
               Provenance("concat", prov.params, prov.inputs, "0.1.0"),
               Provenance("ortho", prov.params, prov.inputs, software="0.1.1")]
    assert all(other.digest != prov.digest for other in changed)
    assert prov.matches({"PROVENANCE_HASH": prov.digest})
    assert not prov.matches({}) and not prov.matches({"PROVENANCE_HASH": "sha256:0"})
    with pytest.raises(TypeError):
        _ = Provenance("ortho", {"f": object()}).digest


PINNED_DIGEST = "sha256:c38d09011f0372b4dceda2eec1b606d97e4819b8d51f434967a0c6a6d93fd26e"


def test_provenance_never_records_credentials():
    signed = ("https://user:password@bucket.s3.amazonaws.com/raw/A.SAFE"
              "?X-Amz-Credential=AKIA123&X-Amz-Signature=deadbeef")
    prov = Provenance("ingest", {}, [signed, "s3://bucket/raw/B.SAFE"])
    text = " ".join(prov.tags().values())
    for secret in ("password", "user:", "AKIA123", "deadbeef", "X-Amz"):
        assert secret not in text
    unsigned = Provenance("ingest", {}, ["https://bucket.s3.amazonaws.com/raw/A.SAFE",
                                         "s3://bucket/raw/B.SAFE"])
    assert prov.digest == unsigned.digest  # a new signature does not defeat reuse
