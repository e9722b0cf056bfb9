"""S1Tiling's names against the examples of spec §3.0, §4.1 and §4.2."""

from __future__ import annotations

import pytest

from s1tiling_cloud.exceptions import ConfigurationError
from s1tiling_cloud.outputs.names import (
    DEFAULT_FNAME_FMTS,
    MeasurementName,
    Naming,
    ProductName,
    S1Image,
    check_format,
    default_dirs,
    format_name,
    mask_name,
    name_regex,
    orbit_direction_code,
    parse_name,
    relative_orbit,
    remove_polarisation_marks,
    tile_fields,
)

# Two consecutive S1A products of 2020-01-08, absolute orbit 30704 (relative orbit 7), descending.
VH_1 = "s1a-iw-grd-vh-20200108t044150-20200108t044215-030704-038506-002.tiff"
VH_2 = "s1a-iw-grd-vh-20200108t044215-20200108t044240-030704-038506-002.tiff"
PRODUCT_1 = "S1A_IW_GRDH_1SDV_20200108T044150_20200108T044215_030704_038506_5C57"
PRODUCT_2 = "S1A_IW_GRDH_1SDV_20200108T044215_20200108T044240_030704_038506_F2A1"
OUT = "/data/out"
DIRS = default_dirs(OUT, tmp_dir="/tmp/s1tiling")
IMAGE_1 = S1Image(VH_1, "DESCENDING", product=PRODUCT_1 + ".SAFE")
IMAGE_2 = S1Image(VH_2, "DESCENDING", product=PRODUCT_2)


def test_measurement_name_fields():
    m = MeasurementName.parse("/some/where/measurement/" + VH_1)
    assert (m.flying_unit_code, m.polarisation, m.start, m.stop) == (
        "s1a", "vh", "20200108t044150", "20200108t044215")
    assert (m.absolute_orbit, m.datatake, m.image_number, m.swath) == (30704, "038506", "002", "iw")
    with pytest.raises(ValueError, match="measurement"):
        MeasurementName.parse("s1a-iw-grd-xx-20200108t044150.tiff")


def test_product_name_and_relative_orbit():
    p = ProductName.parse(f"s3://bucket/raw/{PRODUCT_1}.SAFE/")
    assert p.name == PRODUCT_1
    assert (p.mission, p.mode, p.product_type, p.polarisations) == ("S1A", "IW", "GRDH", "DV")
    assert p.start.isoformat() == "2020-01-08T04:41:50+00:00"
    assert p.absolute_orbit == 30704 and p.relative_orbit == 7
    # (abs − offset) % 175 + 1 with offsets 73 (S1A), 27 (S1B), 42 (S1D), and for S1C 172 up
    # to absolute orbit 8018, 99 after its June 2026 re-phasing.
    assert relative_orbit("s1b", 30148) == (30148 - 27) % 175 + 1 == 22
    assert relative_orbit("S1C", 172) == 1
    assert relative_orbit("S1C", 8018) == (8018 - 172) % 175 + 1 == 147
    assert relative_orbit("S1C", 8019) == (8019 - 99) % 175 + 1 == 46
    assert relative_orbit("sentinel-1c", 8200) == (8200 - 99) % 175 + 1
    assert relative_orbit("S1D", 100) == (100 - 42) % 175 + 1 == 59
    assert ProductName.parse(PRODUCT_1.replace("S1A", "S1D")).relative_orbit == (30704 - 42) % 175 + 1
    with pytest.raises(ValueError, match="S1E.*known: S1A, S1B, S1C, S1D"):
        relative_orbit("S1E", 100)
    with pytest.raises(ValueError):
        ProductName.parse("S2A_MSIL1C_20200108T100401_N0208_R122_T33NWB_20200108T120000.SAFE")


def test_image_fields_follow_s1tiling():
    f = IMAGE_1.fields()
    assert f["flying_unit_code"] == "s1a" and f["flying_unit_code_short"] == "A"
    assert f["polarisation"] == "vh"
    assert f["orbit_direction"] == "DES"
    assert f["orbit"] == "007"
    assert f["absolute_orbit"] == "030704"
    assert f["acquisition_time"] == f["acquisition_stamp"] == "20200108t044150"
    assert f["acquisition_day"] == "20200108txxxxxx"
    assert f["basename"] == VH_1 and f["rootname"] == VH_1[:-5]
    assert f["polarless_basename"] == "s1a-iw-grd-20200108t044150-20200108t044215-030704-038506.tiff"
    assert f["polarless_rootname"] == "s1a-iw-grd-20200108t044150-20200108t044215-030704-038506"
    # The manifest's orbit numbers win over the ones derived from the name.
    assert S1Image(VH_1, "ASC", relative_orbit=8, absolute_orbit=1).fields()["orbit"] == "008"
    assert remove_polarisation_marks("S1A_VV_x-vv-y-001.tiff") == "S1A_x-y.tiff"


def test_orbit_direction_codes():
    assert orbit_direction_code("DESCENDING") == "DES"
    assert orbit_direction_code("ascending") == "ASC"
    assert orbit_direction_code("DSC") == "DES"  # S1Tiling's docs say DSC, its names DES
    with pytest.raises(ValueError):
        orbit_direction_code("NORTHBOUND")


def test_final_tile_names_one_and_two_images():
    naming = Naming("sigma")
    pair = tile_fields([IMAGE_2, IMAGE_1], "33NWB")
    single = tile_fields([IMAGE_1], "33NWB")
    assert naming.filename("final", pair) == "s1a_33NWB_vh_DES_007_20200108txxxxxx.tif"
    assert naming.filename("final", single) == "s1a_33NWB_vh_DES_007_20200108t044150.tif"
    assert pair["acquisition_start"] == "20200108t044150"
    assert "acquisition_time" not in pair  # S1Tiling drops it for a pair
    assert naming.path("final", pair, DIRS) == f"{OUT}/33NWB/s1a_33NWB_vh_DES_007_20200108txxxxxx.tif"
    assert naming.fname("concatenation") == DEFAULT_FNAME_FMTS["concatenation"]
    assert naming.dname("concatenation") == "{out_dir}/{tile_name}"


def test_tile_fields_refuse_mixed_images():
    vv = S1Image(VH_2.replace("-vh-", "-vv-"), "DES", product=PRODUCT_2)
    with pytest.raises(ValueError, match="polarisation"):
        tile_fields([IMAGE_1, vv], "33NWB")
    with pytest.raises(ValueError):
        tile_fields([], "33NWB")


def test_mask_quicklook_and_per_image_names():
    naming = Naming("sigma")
    pair = tile_fields([IMAGE_1, IMAGE_2], "33NWB")
    assert mask_name("s1a_33NWB_vh_DES_007_20200108txxxxxx.tif") == \
        "s1a_33NWB_vh_DES_007_20200108txxxxxx_BorderMask.tif"
    assert naming.path("mask", pair, DIRS) == \
        f"{OUT}/33NWB/s1a_33NWB_vh_DES_007_20200108txxxxxx_BorderMask.tif"
    assert naming.path("quicklook", pair, DIRS) == \
        f"{OUT}/_QL/s1a_33NWB_vh_DES_007_20200108txxxxxx_quicklook.jpg"
    assert naming.path("filtered", pair, DIRS) == \
        f"{OUT}/filtered/33NWB/s1a_33NWB_vh_DES_007_20200108txxxxxx_filtered.tif"
    ortho = {**IMAGE_1.fields(), "tile_name": "33NWB", "calibration_type": "sigma"}
    assert naming.path("orthorectification", ortho, DIRS) == \
        "/tmp/s1tiling/S2/33NWB/s1a_33NWB_vh_DES_007_20200108t044150_sigma.tif"
    for calibration, lut in (("normlim", "beta"), ("gamma_naught_rtc", "sigma")):
        # S1Tiling's defaults name a one-image day's concatenation as the image: not here.
        calibrated = Naming(calibration)
        fields = {**ortho, "calibration_type": lut}
        assert calibrated.path("concatenation", fields, DIRS) == \
            f"/tmp/s1tiling/S2/33NWB/s1a_33NWB_vh_DES_007_20200108t044150_{lut}.tif"
        assert calibrated.path("orthorectification", fields, DIRS) == \
            f"/tmp/s1tiling/S2/33NWB/s1a_33NWB_vh_DES_007_20200108t044150_{lut}_ortho.tif"
    with pytest.raises(ValueError):
        naming.fname("mask")
    with pytest.raises(ValueError):
        naming.fname("nonsense")


def test_correction_map_names_and_folders():
    naming = Naming("normlim")
    assert naming.filename("lia_product", {"LIA_kind": "sin_LIA", "tile_name": "33NWB",
                                           "orbit": "007"}) == "sin_LIA_33NWB_007.tif"
    assert naming.path("lia_product", {"LIA_kind": "LIA", "tile_name": "33NWB", "orbit": "007"},
                       DIRS) == f"{OUT}/_LIA/LIA_33NWB_007.tif"
    for kind in ("IA", "cos_IA", "sin_IA", "tan_IA"):
        assert naming.path("ia_product", {"IA_kind": kind, "tile_name": "33NWB", "orbit": "007"},
                           DIRS) == f"{OUT}/_IA/{kind}_33NWB_007.tif"
    assert naming.path("gamma_area_product", {"tile_name": "33NWB", "orbit": "007"}, DIRS) == \
        f"{OUT}/_GAMMA_AREA/GAMMA_AREA_33NWB_007.tif"
    assert default_dirs("s3://bucket/out/")["eof_dir"] == "s3://bucket/out/_EOF"


def test_normlim_and_rtc_names():
    fields = tile_fields([IMAGE_1, IMAGE_2], "33NWB")
    normlim, rtc = Naming("normlim"), Naming("gamma_naught_rtc")
    # The β°/σ° concatenation is an intermediate in tmp, named after its LUT.
    assert normlim.path("concatenation", {**fields, "calibration_type": "beta"}, DIRS) == \
        "/tmp/s1tiling/S2/33NWB/s1a_33NWB_vh_DES_007_20200108txxxxxx_beta.tif"
    assert rtc.filename("concatenation", {**fields, "calibration_type": "sigma"}) == \
        "s1a_33NWB_vh_DES_007_20200108txxxxxx_sigma.tif"
    assert normlim.path("final", fields, DIRS) == \
        f"{OUT}/33NWB/s1a_33NWB_vh_DES_007_20200108txxxxxx_NormLim.tif"
    assert rtc.filename("final", fields) == "s1a_33NWB_vh_DES_007_20200108txxxxxx_GammaNaughtRTC.tif"
    assert normlim.filename("filtered", {**fields, "calibration_type": "Normlim"}) == \
        "s1a_33NWB_vh_DES_007_20200108txxxxxx_Normlim_filtered.tif"
    assert mask_name(normlim.filename("final", fields)).endswith("_NormLim_BorderMask.tif")


THEIA = ("{flying_unit_code!u}_L1ORT_{tile_name}_{polarisation!u}_{calibration_type!u:.3}_"
         "{orbit_direction}_{orbit}_{acquisition_start}.tif")
THEIA_FILTERED = THEIA.replace(".tif", "_filtered_{filter_method!u:.3}.tif")


def test_theia_example_and_conversions():
    fields = {"flying_unit_code": "s1a", "tile_name": "31TCH", "polarisation": "vh",
              "calibration_type": "sigma", "orbit_direction": "ASC", "orbit": "132",
              "acquisition_start": "20250218t174708", "filter_method": "lee"}
    naming = Naming("sigma", fname_fmt={"concatenation": THEIA, "filtered": THEIA_FILTERED})
    assert naming.filename("final", fields) == "S1A_L1ORT_31TCH_VH_SIG_ASC_132_20250218t174708.tif"
    assert naming.filename("filtered", fields) == \
        "S1A_L1ORT_31TCH_VH_SIG_ASC_132_20250218t174708_filtered_LEE.tif"
    assert format_name("{x!c}|{x!l}|{x!u}|{x:>8}|{y!c}", {"x": "NormLim", "y": "gammamap"}) == \
        "Normlim|normlim|NORMLIM| NormLim|Gammamap"
    # Names made with conversions parse back (case-insensitively where converted).
    parsed = parse_name("S1A_L1ORT_31TCH_VH_SIG_ASC_132_20250218t174708.tif", THEIA)
    assert parsed == {"flying_unit_code": "S1A", "tile_name": "31TCH", "polarisation": "VH",
                      "calibration_type": "SIG", "orbit_direction": "ASC", "orbit": "132",
                      "acquisition_start": "20250218t174708"}


def test_user_overrides_and_their_errors():
    naming = Naming("sigma", dname_fmt={"tiled": "{out_dir}/{tile_name}/backscatter"},
                    fname_fmt={"gamma_area": "GA_{tile_name}_{orbit}.tif"})
    fields = tile_fields([IMAGE_1], "33NWB")
    assert naming.path("final", fields, DIRS) == \
        f"{OUT}/33NWB/backscatter/s1a_33NWB_vh_DES_007_20200108t044150.tif"
    assert naming.filename("gamma_area_product", fields) == "GA_33NWB_007.tif"
    # S1Tiling reads `gamma_area` (⚠); the documented `gamma_area_product` works too.
    assert Naming("sigma", fname_fmt={"gamma_area_product": "G_{orbit}.tif"}).filename(
        "gamma_area_product", fields) == "G_007.tif"
    with pytest.raises(ConfigurationError, match="not both"):
        Naming("sigma", fname_fmt={"gamma_area": "a{orbit}", "gamma_area_product": "b{orbit}"})
    with pytest.raises(ConfigurationError, match="unknown field"):
        Naming("sigma", fname_fmt={"concatenation": "{tile_name}_{colour}.tif"})
    with pytest.raises(ConfigurationError, match="unknown field"):
        Naming("sigma", dname_fmt={"tiled": "{out_dir}/{orbit}"})
    with pytest.raises(ConfigurationError, match="conversion"):
        check_format("{tile_name!x}")
    with pytest.raises(ConfigurationError, match="calibration"):
        Naming("sigma0")
    with pytest.raises(ConfigurationError, match="calibration_type"):
        Naming("normlim").filename("concatenation", fields)  # the intermediate needs it


def test_parse_names_back_into_fields():
    fmt = DEFAULT_FNAME_FMTS["concatenation"]
    assert parse_name("s1a_33NWB_vh_DES_007_20200108txxxxxx.tif", fmt) == {
        "flying_unit_code": "s1a", "tile_name": "33NWB", "polarisation": "vh",
        "orbit_direction": "DES", "orbit": "007", "acquisition_stamp": "20200108txxxxxx"}
    assert parse_name("s1a_33NWB_vh_DES_007_20200108t044150_BorderMask.tif", fmt) is None
    lia = DEFAULT_FNAME_FMTS["lia_product"]
    assert parse_name("sin_LIA_33NWB_007.tif", lia) == {"LIA_kind": "sin_LIA", "tile_name": "33NWB",
                                                         "orbit": "007"}
    assert parse_name("LIA_33NWB_007.tif", lia)["LIA_kind"] == "LIA"
    assert parse_name("tan_IA_33NWB_007.tif", DEFAULT_FNAME_FMTS["ia_product"])["IA_kind"] == "tan_IA"


def test_name_regex_finds_a_product_made_from_one_or_two_images():
    """S1Tiling's restart check: the product exists if either the day or the time name does."""
    fields = tile_fields([IMAGE_1], "33NWB")
    known = {k: v for k, v in fields.items() if k != "acquisition_stamp"}
    pattern = name_regex(DEFAULT_FNAME_FMTS["concatenation"], known)
    assert pattern.match("s1a_33NWB_vh_DES_007_20200108txxxxxx.tif")
    assert pattern.match("s1a_33NWB_vh_DES_007_20200108t044150.tif")
    assert not pattern.match("s1a_33NWB_vv_DES_007_20200108txxxxxx.tif")
    assert not pattern.match("s1a_33NWB_vh_DES_007_20200108txxxxxx_BorderMask.tif")
    assert not pattern.match("s1a_33NWC_vh_DES_007_20200108txxxxxx.tif")
