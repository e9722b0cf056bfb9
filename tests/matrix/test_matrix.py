"""The scenario × situation matrix, end to end through S1Tiling's commands and the local
runner: each cell asserts the exit code and the exact set of outputs, named as S1Tiling names
them, and the metadata that tells the situation apart (see `conftest.py` for the products).

Re-runs after a lost output or a killed run are in `test_matrix_rerun.py`.
"""

from __future__ import annotations

import json

import pytest

from .conftest import run_cell, run_program, tags, write_config

POLS = ("vv", "vh")


def finals(tile: str, stem: str, pols=POLS, suffix: str = "", mask: bool = True) -> set[str]:
    """The day's products of `stem` (`s1a_31TCJ_{pol}_DES_007_20200108t044150`), and masks."""
    names = set()
    for pol in pols:
        name = f"{tile}/{stem.format(pol=pol)}{suffix}.tif"
        names.add(name)
        if mask:
            names.add(name.replace(".tif", "_BorderMask.tif"))
    return names


A = "s1a_31TCJ_{pol}_DES_007_20200108t044150"


# ---- S1Processor, σ° (the default) across situations -----------------------------------------

@pytest.mark.parametrize(("roles", "expected"), [
    (["A"], finals("31TCJ", A)),
    (["A", "A_next"], finals("31TCJ", "s1a_31TCJ_{pol}_DES_007_20200108txxxxxx")),
    (["A", "A_later"], finals("31TCJ", A) | finals("31TCJ", "s1a_31TCJ_{pol}_DES_007_20200120t044150")),
    (["A", "A_asc"], finals("31TCJ", A) | finals("31TCJ", "s1a_31TCJ_{pol}_ASC_073_20200109t175000")),
    (["A_vv"], finals("31TCJ", "s1a_31TCJ_{pol}_DES_007_20200108t044010", pols=("vv",))),
    (["C_old", "C_new", "D"], finals("31TCJ", "s1c_31TCJ_{pol}_DES_129_20260501t044150")
     | finals("31TCJ", "s1c_31TCJ_{pol}_DES_127_20260701t044150")
     | finals("31TCJ", "s1d_31TCJ_{pol}_DES_034_20260702t044150")),
], ids=["one-product", "same-day-pair", "two-dates", "two-orbits", "vv-only", "s1c-s1d"])
def test_sigma0_situations(tmp_path, archive, roles, expected):
    run, found = run_cell(tmp_path, archive, roles)
    assert run.code == 0, run.output[-4000:]
    assert found == expected
    for name in expected:
        if not name.endswith("_BorderMask.tif"):
            product = tags(tmp_path / "out" / name)
            assert product["CALIBRATION"] == "sigma" and product["S2_TILE_CORRESPONDING_CODE"] == "31TCJ"
            assert product["PROJECT"] == "s1tiling-cloud matrix"
            assert product["ACQUISITION_DATETIME_1"] == product["ACQUISITION_DATETIME"]
            assert ("ACQUISITION_DATETIME_2" in product) == ("txxxxxx" in name)
            assert product["RELATIVE_ORBIT_NUMBER"] == name.split("_")[4]
            assert product["FLYING_UNIT_CODE"] == name.split("/")[1][:3]


# ---- the other calibrations, filtering, masks ------------------------------------------------

@pytest.mark.parametrize(("options", "expected", "calibration"), [
    ({"calibration": "beta"}, finals("31TCJ", A), "beta"),
    ({"calibration": "gamma", "mask": False}, finals("31TCJ", A, mask=False), "gamma"),
    ({"filter": "lee"}, finals("31TCJ", A) | {f"filtered/{n}" for n in finals(
        "31TCJ", A, suffix="_filtered", mask=False)}, "sigma"),
    ({"calibration": "normlim", "orbits": "7"},
     finals("31TCJ", A, suffix="_NormLim") | {"_LIA/sin_LIA_31TCJ_007.tif", "_LIA/LIA_31TCJ_007.tif"},
     "Normlim"),
    ({"calibration": "gamma_naught_rtc"},
     finals("31TCJ", A, suffix="_GammaNaughtRTC") | {"_GAMMA_AREA/GAMMA_AREA_31TCJ_007.tif"},
     "GammaNaughtRTC"),
], ids=["beta", "gamma-no-mask", "sigma-lee", "normlim-one-product", "rtc-one-product"])
def test_calibrations_and_finishing(tmp_path, archive, options, expected, calibration):
    run, found = run_cell(tmp_path, archive, ["A"], **options)
    assert run.code == 0, run.output[-4000:]
    assert found == expected
    product = tags(tmp_path / "out" / "31TCJ" / next(
        n.split("/")[1] for n in expected if n.startswith("31TCJ/") and "Border" not in n))
    assert product["CALIBRATION"] == calibration


def test_normlim_on_a_same_day_pair(tmp_path, archive):
    run, found = run_cell(tmp_path, archive, ["A", "A_next"], calibration="normlim", orbits="7")
    assert run.code == 0, run.output[-4000:]
    assert found == finals("31TCJ", "s1a_31TCJ_{pol}_DES_007_20200108txxxxxx", suffix="_NormLim") | {
        "_LIA/sin_LIA_31TCJ_007.tif", "_LIA/LIA_31TCJ_007.tif"}



@pytest.mark.parametrize(("options", "map_key"), [
    ({"calibration": "normlim", "orbits": "7"}, "sin_LIA"),
    ({"calibration": "gamma_naught_rtc"}, "gamma_area"),
], ids=["normlim", "rtc"])
def test_corrected_products_are_published_with_their_map(tmp_path, archive, options, map_key):
    """S1Tiling's default `[Stac] publish`: the item of a NORMLIM / γ°RTC product carries its
    correction map, whose NaN nodata is the raster extension's "nan" (a bare NaN made the
    publication fail: strict JSON has none)."""
    run, _ = run_cell(tmp_path, archive, ["A"], publish=True, **options)
    assert run.code == 0, run.output[-4000:]
    items = [json.loads(p.read_text()) for p in (tmp_path / "out").rglob("*.json")]
    items = [i for i in items if i.get("type") == "Feature"]
    assert len(items) == 1 and map_key in items[0]["assets"], items
    assert items[0]["assets"][map_key]["raster:bands"][0]["nodata"] == "nan"

# ---- places: a coastal tile with only its land DEM cells, a tile edge on the equator --------

def test_a_coastal_tile_with_only_its_land_dem_cells(tmp_path, archive):
    run, found = run_cell(tmp_path, archive, ["coast"], tiles="32VKM")
    assert run.code == 0, run.output[-4000:]
    assert found == finals("32VKM", "s1a_32VKM_{pol}_DES_014_20200201t053000")
    product = tags(tmp_path / "out" / "32VKM" / "s1a_32VKM_vv_DES_014_20200201t053000.tif")
    assert product["DEM_INFO"] == "dem; geoid over the sea cells N59E003, N60E003"


def test_a_tile_whose_edge_is_the_equator(tmp_path, archive):
    run, found = run_cell(tmp_path, archive, ["equator"], tiles="34MCE")
    assert run.code == 0, run.output[-4000:]
    assert found == finals("34MCE", "s1a_34MCE_{pol}_DES_084_20200301t040000")
    assert tags(tmp_path / "out" / "34MCE" / "s1a_34MCE_vv_DES_084_20200301t040000.tif")["DEM_INFO"] == "dem"


# ---- the maps programs ---------------------------------------------------------------------

@pytest.mark.parametrize(("program", "expected"), [
    ("S1LIAMap", {"_LIA/sin_LIA_31TCJ_007.tif", "_LIA/LIA_31TCJ_007.tif"}),
    ("S1IAMap", {"_IA/IA_31TCJ_007.tif"}),
    ("S1GammaAreaMap", {"_GAMMA_AREA/GAMMA_AREA_31TCJ_007.tif"}),
])
def test_maps_programs(tmp_path, archive, program, expected):
    run, found = run_cell(tmp_path, archive, ["A"], program=program, orbits="7",
                          extra_processing="ia_maps_to_produce : deg")
    assert run.code == 0, run.output[-4000:]
    assert found == expected


def test_lia_maps_from_orbit_files_only(tmp_path, archive):
    run, found = run_cell(tmp_path, archive, [], program="S1LIAMap", orbits="7",
                          extra_paths=f"eof_dir : {archive.eof}")
    assert run.code == 0, run.output[-4000:]
    assert found == {"_LIA/sin_LIA_31TCJ_007.tif", "_LIA/LIA_31TCJ_007.tif"}
    lia = tags(tmp_path / "out" / "_LIA" / "sin_LIA_31TCJ_007.tif")
    assert lia["EOF_FILE"].startswith("S1A_OPER_AUX_POEORB_OPOD_") and lia["ORBIT_DIRECTION"] == "DES"


# ---- a re-run with nothing to do -------------------------------------------------------------

def test_a_rerun_with_nothing_to_do(tmp_path, archive):
    run, found = run_cell(tmp_path, archive, ["A"])
    assert run.code == 0, run.output[-4000:]
    stamps = {n: (tmp_path / "out" / n).stat().st_mtime_ns for n in found}
    again = run_program("S1Processor", write_config(tmp_path, tmp_path / "s1", archive.dem))
    assert again.code == 0, again.output[-4000:]
    assert {n: (tmp_path / "out" / n).stat().st_mtime_ns for n in found} == stamps


# ---- exit codes of bad situations ------------------------------------------------------------

def test_a_land_cell_missing_is_75_naming_it(tmp_path, archive):
    dem = tmp_path / "dem"
    dem.mkdir()
    for cell in ("N59E004", "N59E005", "N60E004"):  # N60E005 (Norway) left out
        (dem / f"{cell}.hgt").symlink_to(archive.dem / f"{cell}.hgt")
    config = write_config(tmp_path, archive.s1_images(tmp_path, ["coast"]), dem, tiles="32VKM")
    run = run_program("S1Processor", config)
    assert run.code == 75, run.output[-4000:]
    text = "".join(run.output.splitlines())  # the console wraps long lines
    error = text[text.index("32VKM: Missing DEM tiles for"):text.index("(expected")]
    assert error.rstrip().endswith(": N60E005")  # the land cell only, not the sea ones
    assert "MissingDEMError: Some DEM tiles are missing, exiting..." in run.output


def test_no_valid_tile_is_73(tmp_path, archive):
    run, found = run_cell(tmp_path, archive, ["A"], tiles="3XYZ")
    assert run.code == 73 and "No existing tiles found, exiting..." in run.output and not found


def test_rtc_on_a_same_day_pair_uses_the_pair_for_its_map(tmp_path, archive):
    run, found = run_cell(tmp_path, archive, ["A", "A_next"], calibration="gamma_naught_rtc")
    assert run.code == 0, run.output[-4000:]
    pair = "s1a_31TCJ_{pol}_DES_007_20200108txxxxxx"
    assert found == finals("31TCJ", pair, suffix="_GammaNaughtRTC") | {
        "_GAMMA_AREA/GAMMA_AREA_31TCJ_007.tif"}
    area = tags(tmp_path / "out" / "_GAMMA_AREA" / "GAMMA_AREA_31TCJ_007.tif")
    product = tags(tmp_path / "out" / "31TCJ" / f"{pair.format(pol='vv')}_GammaNaughtRTC.tif")
    assert area["INPUT_S1_IMAGES"] == product["INPUT_S1_IMAGES"]  # both products of the pass
    assert len(area["INPUT_S1_IMAGES"].split(", ")) == 2
    assert area["DATA_TYPE"] == "meters^2" and area["ACQUISITION_DATETIME_2"]
