"""The plan of a request: which stage calls, once each, named as S1Tiling names the files."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import box

from s1tiling_cloud.exceptions import ConfigurationError
from s1tiling_cloud.geo.s2tile import S2Tile
from s1tiling_cloud.plan import Plan, build_plan, render_json, render_text
from s1tiling_cloud.search.model import S1Candidate
from s1tiling_cloud.stages.ortho import OrthoParams

from .requests import make_request, outcome_for

TILES = ("31TCJ", "31TDJ")


def candidate(start: datetime, *, orbit: int = 7, absolute: int = 30704, location: str | None = None,
              over=TILES, platform: str = "S1A") -> S1Candidate:
    """A product whose footprint covers `over` (a box around their footprints)."""
    bounds = [S2Tile.from_name(t).footprint.bounds for t in over]
    footprint = box(min(b[0] for b in bounds), min(b[1] for b in bounds),
                    max(b[2] for b in bounds), max(b[3] for b in bounds))
    stop = start + timedelta(seconds=25)
    stamp = f"{start:%Y%m%dT%H%M%S}_{stop:%Y%m%dT%H%M%S}"
    return S1Candidate(id=f"{platform}_IW_GRDH_1SDV_{stamp}_{absolute:06d}_038506_A4E9", platform=platform,
                       start=start, stop=stop, relative_orbit=orbit, absolute_orbit=absolute,
                       orbit_direction="DES", polarisations=["vv", "vh"], footprint=footprint.wkt,
                       location=location, provider=None if location is None else "local")


DAY1 = datetime(2020, 1, 8, 4, 41, 50, tzinfo=UTC)
PAIR = [candidate(DAY1), candidate(DAY1 + timedelta(seconds=25))]  # two slices, one day
LATER = candidate(DAY1 + timedelta(days=12), absolute=30879)  # same orbit, 12 days later


def stages(plan: Plan, stage: str) -> list:
    return [n for n in plan.nodes if n.stage == stage]


def test_one_ingest_per_product_whatever_its_tiles(tmp_path):
    request = make_request(str(tmp_path), tiles=TILES, publish=True, quicklook=True)
    plan = build_plan(request, outcome_for({t: [*PAIR, LATER] for t in TILES}))
    ingests = stages(plan, "ingest")
    assert sorted(n.id for n in ingests) == sorted(f"ingest/{c.id}" for c in [*PAIR, LATER])
    assert plan.nodes[:3] == ingests  # downloads first
    for node in ingests:
        assert node.args["destination"] == f"{tmp_path}/s1/{node.id.split('/')[1]}.SAFE"
        assert node.args["product"]["id"] == node.id.split("/")[1] and node.kind == "ingest"
        readers = [n for n in plan.nodes if node.id in n.depends]
        assert sorted(n.id.split("/")[1] for n in readers) == list(TILES)  # one ortho per tile
        assert len(node.products) == 2  # the S2 products of both tiles
    # an ortho per tile × day: the pair's day is one ortho (native engine)
    assert len(stages(plan, "heights")) == 2 and len(stages(plan, "ortho")) == 4
    ortho = plan.node("ortho/31TCJ/007/20200108")
    assert ortho.label == "ortho 31TCJ s1a 20200108" and not ortho.intermediate
    assert ortho.depends == [*(f"ingest/{c.id}" for c in PAIR), "heights/31TCJ"]
    assert ortho.args["product"] == [f"{tmp_path}/s1/{c.id}.SAFE" for c in PAIR]
    assert ortho.args["outputs"] == {
        "VV": f"{tmp_path}/out/31TCJ/s1a_31TCJ_vv_DES_007_20200108txxxxxx.tif",
        "VH": f"{tmp_path}/out/31TCJ/s1a_31TCJ_vh_DES_007_20200108txxxxxx.tif"}
    assert ortho.args["params"]["resolution"] == 60.0 and ortho.args["params"]["calibration"] == "sigma"
    assert ortho.args["params"]["metadata"] == {"PROJECT": "s1tiling-cloud tests"}


def test_same_day_pairs_are_fused_as_txxxxxx(tmp_path):
    plan = build_plan(make_request(str(tmp_path)), outcome_for({"31TCJ": [LATER, *PAIR]}))
    # native engine: one ortho fuses the day's products into its final products and masks,
    # as an ortho per product and a concatenation per polarisation would make them
    day = plan.node("ortho/31TCJ/007/20200108")
    mask = f"{tmp_path}/out/31TCJ/s1a_31TCJ_vv_DES_007_20200108txxxxxx_BorderMask.tif"
    assert day.args["outputs"]["VV"] == f"{tmp_path}/out/31TCJ/s1a_31TCJ_vv_DES_007_20200108txxxxxx.tif"
    assert day.args["masks"]["VV"] == mask and mask in day.outputs
    assert day.args["params"]["day_product"] is True and "intermediate" not in day.args["params"]
    assert OrthoParams(**day.args["params"]).encoding() == {"overviews": "auto", "compress": "DEFLATE"}
    assert not day.intermediate and day.products == ["s1a_31TCJ_DES_007_20200108txxxxxx"]
    assert not stages(plan, "concatenate") and not stages(plan, "publish")
    assert not stages(plan, "mask")
    assert not any(n.id == f"ortho/31TCJ/{c.id}" for c in PAIR for n in plan.nodes)
    # The only product of its day has no concatenation (S1Tiling moves the file): its ortho
    # writes the day's products, final ones here, and the chain reads them from it.
    alone = plan.node(f"ortho/31TCJ/{LATER.id}")
    assert not any(n.id.startswith("concatenate/31TCJ/007/20200120") for n in plan.nodes)
    assert alone.args["params"]["day_product"] is True and not alone.intermediate
    assert OrthoParams(**alone.args["params"]).encoding() == {"overviews": "auto", "compress": "DEFLATE"}
    assert alone.args["outputs"] == {
        "VV": f"{tmp_path}/out/31TCJ/s1a_31TCJ_vv_DES_007_20200120t044150.tif",
        "VH": f"{tmp_path}/out/31TCJ/s1a_31TCJ_vh_DES_007_20200120t044150.tif"}
    assert alone.args["masks"] == {
        "VV": f"{tmp_path}/out/31TCJ/s1a_31TCJ_vv_DES_007_20200120t044150_BorderMask.tif",
        "VH": f"{tmp_path}/out/31TCJ/s1a_31TCJ_vh_DES_007_20200120t044150_BorderMask.tif"}
    assert alone.outputs == [*alone.args["outputs"].values(), *alone.args["masks"].values()]


def test_normlim_makes_lia_once_per_tile_and_orbit(tmp_path):
    request = make_request(str(tmp_path), tiles=TILES, calibration="normlim", produce_lia_map=True,
                           publish=True)
    plan = build_plan(request, outcome_for({t: [*PAIR, LATER] for t in TILES}))
    lia = stages(plan, "lia")
    assert [n.id for n in lia] == ["lia/31TCJ/007", "lia/31TDJ/007"]
    assert lia[0].args["outputs"] == {"sin_LIA": f"{tmp_path}/out/_LIA/sin_LIA_31TCJ_007.tif",
                                      "LIA": f"{tmp_path}/out/_LIA/LIA_31TCJ_007.tif"}
    assert lia[0].depends[-1] == "heights/31TCJ" and len(lia[0].products) == 2
    assert plan.node(f"ortho/31TCJ/{LATER.id}").args["params"]["calibration"] == "beta"
    # The ortho of a day's only product writes the day's concatenation (an intermediate in
    # tmp that NORMLIM reads); the images of a pair keep their own names.
    alone = plan.node(f"ortho/31TCJ/{LATER.id}")
    assert alone.intermediate
    # read once by NORMLIM: encoded as an intermediate (ZSTD, no overviews), not as a product
    assert alone.args["params"]["day_product"] is True and alone.args["params"]["intermediate"] is True
    assert OrthoParams(**alone.args["params"]).encoding() == {
        "overviews": None, "compress": "ZSTD"}
    assert "concatenate/31TCJ/007/20200120/vv" not in {n.id for n in plan.nodes}
    assert alone.args["outputs"]["VV"] == (
        f"{tmp_path}/tmp/S2/31TCJ/s1a_31TCJ_vv_DES_007_20200120t044150_beta.tif")
    # so is the day's product the ortho of a pair fuses, which NORMLIM reads
    pair = plan.node("ortho/31TCJ/007/20200108")
    assert pair.intermediate and "masks" not in pair.args
    assert OrthoParams(**pair.args["params"]).encoding() == {"overviews": None, "compress": "ZSTD"}
    assert pair.args["outputs"]["VV"] == (
        f"{tmp_path}/tmp/S2/31TCJ/s1a_31TCJ_vv_DES_007_20200108txxxxxx_beta.tif")
    assert plan.node("normlim/31TCJ/007/20200108/vv").args["product"] == pair.args["outputs"]["VV"]
    normlim = plan.node("normlim/31TCJ/007/20200120/vv")
    assert normlim.depends == [alone.id, "lia/31TCJ/007"]
    assert normlim.args["product"] == alone.args["outputs"]["VV"]
    assert normlim.args["sin_lia_uri"] == lia[0].args["outputs"]["sin_LIA"]
    final = f"{tmp_path}/out/31TCJ/s1a_31TCJ_vv_DES_007_20200120t044150_NormLim.tif"
    assert normlim.outputs == [final, final.replace(".tif", "_BorderMask.tif")]
    assert normlim.args["output"] == final and normlim.args["mask"] == normlim.outputs[1]
    assert "masks" not in alone.args  # the ortho's β° is no final product: no mask of it
    publish = plan.node("publish/31TCJ/007/20200120")
    assert publish.args["maps"] == lia[0].args["outputs"] and "lia/31TCJ/007" in publish.depends
    assert publish.args["masks"]["vv"] == normlim.outputs[1] and normlim.id in publish.depends
    assert publish.args["products"] == {"vv": normlim.outputs[0],
                                        "vh": plan.node("normlim/31TCJ/007/20200120/vh").outputs[0]}
    assert publish.args["catalog"] == f"{tmp_path}/out/catalog.json"
    assert publish.args["inputs"] == [{"id": LATER.id, "href": f"{tmp_path}/s1/{LATER.id}.SAFE",
                                       "provider": None}]


def test_rtc_and_despeckle_chain(tmp_path):
    request = make_request(str(tmp_path), calibration="gamma_naught_rtc")
    request.filtering = dataclasses.replace(request.filtering, filter="lee", window_radius=2, nblooks=4.0)
    plan = build_plan(request, outcome_for({"31TCJ": [LATER]}))
    area = plan.node("gamma_area/31TCJ/007")
    assert area.outputs == [f"{tmp_path}/out/_GAMMA_AREA/GAMMA_AREA_31TCJ_007.tif"]
    # the [Processing] keys of the γ-area computation reach its stage
    assert (area.args["params"]["distribute_area"], area.args["params"]["outer_margin_ratio"]) == (
        True, 0.04)
    request.processing = dataclasses.replace(request.processing, distribute_area=False,
                                             outer_margin_ratio=0.0)
    params = build_plan(request, outcome_for({"31TCJ": [LATER]})).node("gamma_area/31TCJ/007").args["params"]
    assert (params["distribute_area"], params["outer_margin_ratio"]) == (False, 0.0)
    rtc = plan.node("rtc/31TCJ/007/20200120/vh")
    assert rtc.args["gamma_area_uri"] == area.outputs[0]
    assert rtc.outputs[0].endswith("/out/31TCJ/s1a_31TCJ_vh_DES_007_20200120t044150_GammaNaughtRTC.tif")
    despeckle = plan.node("despeckle/31TCJ/007/20200120/vh")
    assert despeckle.args["product"] == rtc.outputs[0] and despeckle.args["params"]["method"] == "lee"
    assert despeckle.outputs == [f"{tmp_path}/out/filtered/31TCJ/"
                                 "s1a_31TCJ_vh_DES_007_20200120t044150_GammaNaughtRTC_filtered.tif"]


@pytest.mark.parametrize(("scenario", "expected"), [
    ("s1_process_lia", ["heights/31TCJ", "lia/31TCJ/007", "lia/31TCJ/012"]),
    ("s1_process_ia", ["ia/31TCJ/007", "ia/31TCJ/012"]),
    ("s1_process_gamma_area", ["heights/31TCJ", "gamma_area/31TCJ/007", "gamma_area/31TCJ/012"]),
])
def test_map_scenarios_make_the_maps_only(tmp_path, scenario, expected):
    other = candidate(DAY1 + timedelta(days=1), orbit=12, absolute=30720, location="/data/other.SAFE")
    request = make_request(str(tmp_path), ia_maps_to_produce=["deg", "cos"])
    plan = build_plan(request, outcome_for({"31TCJ": [LATER, other]}), scenario)
    assert [n.id for n in plan.nodes if n.stage != "ingest"] == expected
    assert [n.id for n in stages(plan, "ingest")] == [f"ingest/{LATER.id}"]  # other is local
    maps = plan.node(expected[-1])
    assert maps.args["product"] == "/data/other.SAFE" and maps.depends[:1] != [f"ingest/{LATER.id}"]
    if scenario == "s1_process_ia":
        assert maps.args["outputs"] == {"IA": f"{tmp_path}/out/_IA/IA_31TCJ_012.tif",
                                        "cos_IA": f"{tmp_path}/out/_IA/cos_IA_31TCJ_012.tif"}


def test_the_map_input_is_the_product_covering_most_of_the_tile(tmp_path):
    small = dataclasses.replace(LATER, id=LATER.id.replace("A4E9", "0001"), footprint=box(
        *S2Tile.from_name("31TCJ").footprint.buffer(-0.3).bounds).wkt, location="/data/small.SAFE")
    big = dataclasses.replace(LATER, start=LATER.start + timedelta(days=12), location="/data/big.SAFE")
    plan = build_plan(make_request(str(tmp_path)), outcome_for({"31TCJ": [small, big]}), "s1_process_lia")
    assert plan.node("lia/31TCJ/007").args["product"] == "/data/big.SAFE"


def test_plans_are_deterministic_json_round_trips_and_render(tmp_path):
    request = make_request(str(tmp_path), tiles=TILES, calibration="normlim", publish=True, quicklook=True)
    outcome = outcome_for({t: [*PAIR, LATER] for t in TILES}, search_failures=1,
                          discarded=[("X", "31TCJ", "redundant")])
    plan = build_plan(request, outcome)
    again = build_plan(request, outcome_for({t: [LATER, *reversed(PAIR)] for t in reversed(TILES)},
                                            search_failures=1, discarded=[("X", "31TCJ", "redundant")]))
    assert plan.to_json() == again.to_json()
    assert Plan.from_json(render_json(plan)) == plan
    assert plan.search["search_failures"] == 1 and plan.search["kept"] == 3
    order = [n.id for n in plan.topological()]
    assert all(order.index(d) < order.index(n.id) for n in plan.nodes for d in n.depends)
    assert plan.dependents([f"ingest/{LATER.id}"]) >= {"publish/31TCJ/007/20200120",
                                                       "publish/31TDJ/007/20200120"}
    text = render_text(plan)
    assert text.startswith("Plan s1_process: ") and "tile 31TDJ" in text
    assert "  ortho 31TCJ s1a 20200108  [ortho/31TCJ/" in text


def test_unknown_scenario(tmp_path):
    with pytest.raises(ValueError, match="unknown scenario"):
        build_plan(make_request(str(tmp_path)), outcome_for({}), "s1_process_foo")


def test_the_otb_engine_reaches_every_stage_that_has_one(tmp_path):
    request = make_request(str(tmp_path), engine="otb")
    plan = build_plan(request, outcome_for({"31TCJ": [LATER]}))
    params = plan.node(f"ortho/31TCJ/{LATER.id}").args["params"]
    assert params["engine"] == "otb" and params["dem_dir"] == f"{tmp_path}/dem" and params["geoid_file"]
    assert plan.node("mask/31TCJ/007/20200120/vv").args["engine"] == "otb"
    # a day's only product is the ortho's output with either engine (S1Tiling moves the file)
    assert params["day_product"] is True and not stages(plan, "concatenate")
    pair = build_plan(request, outcome_for({"31TCJ": PAIR}))
    concat = pair.node("concatenate/31TCJ/007/20200108/vv")
    assert concat.args["params"]["engine"] == "otb"
    # OTB's masks are S1Tiling's applications run on the products read back: mask nodes
    assert "mask" not in concat.args and "masks" not in plan.node(f"ortho/31TCJ/{LATER.id}").args
    assert pair.node("mask/31TCJ/007/20200108/vv").args["product"] == concat.outputs[0]
    # and an ortho per product writes the per-image images S1Tiling's concatenation merges
    for candidate in PAIR:
        ortho = pair.node(f"ortho/31TCJ/{candidate.id}")
        assert ortho.intermediate and "day_product" not in ortho.args["params"]
        assert ortho.args["outputs"]["VV"] in concat.args["inputs"]


def test_precise_orbits_are_fetched_once_before_the_maps_when_downloading(tmp_path):
    request = make_request(str(tmp_path), tiles=TILES, calibration="normlim")
    request.paths.eof_dir = f"{tmp_path}/eof"
    request.data_source.download = True
    plan = build_plan(request, outcome_for({t: [*PAIR, LATER] for t in TILES}))
    eof = stages(plan, "eof")
    assert len(eof) == 1  # one acquisition feeds both tiles' maps: fetched once
    assert eof[0].args["eof_dir"] == f"{tmp_path}/eof" and eof[0].args["platform"] == "S1A"
    assert eof[0].id == "eof/S1A/20200108"  # the day of the product covering most of the tiles
    assert (eof[0].args["start"], eof[0].args["stop"]) == ("2020-01-08T00:00:00+00:00",
                                                           "2020-01-08T23:59:59+00:00")
    assert "tile S1A" not in render_text(plan)
    for lia in stages(plan, "lia"):
        assert eof[0].id in lia.depends and lia.args["eof_dir"] == f"{tmp_path}/eof"
    request.data_source.download = False  # the files must then be in eof_dir already
    assert not stages(build_plan(request, outcome_for({t: [*PAIR, LATER] for t in TILES})), "eof")


def test_two_stage_calls_never_write_one_file(tmp_path):
    request = make_request(str(tmp_path))
    request.processing.fname_fmt = {"concatenation": "{tile_name}_{polarisation}.tif"}
    with pytest.raises(ConfigurationError, match="would both write .*/out/31TCJ/31TCJ_vv.tif"):
        build_plan(request, outcome_for({"31TCJ": [*PAIR, LATER]}))  # two days, one name


def test_the_publications_of_several_days_share_their_collection_and_catalog(tmp_path):
    """Each publish node promises its own item; the collection and the root catalog are
    updated by every publisher of the tile, so they are not "one writer" files."""
    plan = build_plan(make_request(str(tmp_path), publish=True),
                      outcome_for({"31TCJ": [*PAIR, LATER]}))
    published = stages(plan, "publish")
    assert len(published) == 2
    items = [node.outputs[0] for node in published]
    assert len(set(items)) == 2 and all(item.endswith(".json") for item in items)
    assert published[0].outputs[1:] == published[1].outputs[1:]
    assert published[0].outputs[-1] == f"{tmp_path}/out/catalog.json"


@pytest.mark.parametrize("download", [False, True])
def test_maps_of_tiles_without_products_come_from_the_orbit_files(tmp_path, download):
    request = make_request(str(tmp_path), tiles=TILES, produce_lia_map=True)
    request.data_source.relative_orbit_list = [7, 110]
    request.data_source.platform_list = ["S1A", "S1C"]
    request.data_source.download = download
    request.paths.eof_dir = f"{tmp_path}/eof"
    plan = build_plan(request, outcome_for({"31TCJ": [LATER]}), "s1_process_lia")
    assert plan.node("lia/31TCJ/007").args["product"] == f"{tmp_path}/s1/{LATER.id}.SAFE"
    for orbit in ("007", "110"):
        node = plan.node(f"lia/31TDJ/{orbit}")
        assert node.args["product"] is None and node.args["relative_orbit"] == int(orbit)
        assert node.args["outputs"] == {"sin_LIA": f"{tmp_path}/out/_LIA/sin_LIA_31TDJ_{orbit}.tif",
                                        "LIA": f"{tmp_path}/out/_LIA/LIA_31TDJ_{orbit}.tif"}
        assert node.args["platforms"] == ["S1A", "S1C"] and node.args["eof_dir"] == f"{tmp_path}/eof"
        assert "heights/31TDJ" in node.depends and node.products == [f"sin_LIA_31TDJ_{orbit}"]
    fetched = sorted(n.id for n in stages(plan, "eof"))
    assert fetched == (["eof/S1A/20200108-20200108", "eof/S1A/20200120",  # the product's day
                        "eof/S1C/20200108-20200108"] if download else [])


def test_dem_info_reaches_every_stage_that_writes_it(tmp_path):
    """`[Paths] dem_info` is the `DEM_INFO` of the heights (which the maps copy) and of the
    products; without it, the DEM folder's name."""
    request = make_request(str(tmp_path), tiles=("31TCJ",))
    named = dataclasses.replace(request, paths=dataclasses.replace(request.paths, dem_info="Copernicus 30 m"))
    for req, expected in ((request, request.paths.dem_info or "dem"), (named, "Copernicus 30 m")):
        plan = build_plan(req, outcome_for({"31TCJ": [PAIR[0]]}))
        assert stages(plan, "heights")[0].args["dem"]["info"] == expected
        assert stages(plan, "ortho")[0].args["params"]["dem_info"] == expected
        rtc_plan = build_plan(dataclasses.replace(req, processing=dataclasses.replace(
            req.processing, calibration="gamma_naught_rtc")), outcome_for({"31TCJ": [PAIR[0]]}))
        # the maps copy the heights' DEM_INFO: one value, given once
        assert "dem_info" not in stages(rtc_plan, "gamma_area")[0].args["params"]
        assert stages(rtc_plan, "heights")[0].args["dem"]["info"] == expected


@pytest.mark.parametrize("calibration, writer", [
    ("sigma", "concatenate"), ("normlim", "normlim"), ("gamma_naught_rtc", "rtc")])
@pytest.mark.parametrize("day", ["pair", "alone"])
def test_a_lost_border_mask_is_made_again_by_its_writer_alone(tmp_path, calibration, writer, day):
    """Every promised output there but one mask, the intermediates gone (removed after the
    first run): the node that wrote the mask beside its product is the only work left; it makes
    the mask from the product (`stages.mask.masks_alone`), so nothing it reads is made again."""
    from s1tiling_cloud.runners.remaining import promises, work_left

    candidates = PAIR if day == "pair" else [LATER]
    plan = build_plan(make_request(str(tmp_path), calibration=calibration),
                      outcome_for({"31TCJ": candidates}))
    mask = next(uri for node in plan.nodes for uri in sorted(node.border_masks()) if "_vv_" in uri)
    there = {uri for node in plan.nodes if promises(node) for uri in node.outputs} - {mask}
    left = work_left(plan, lambda uri: uri in there or uri.endswith(".SAFE"))
    expected = "ortho" if writer == "concatenate" else writer  # the day's ortho (native)
    assert [plan.node(n).stage for n in left.pending] == [expected], left.pending
    assert mask in plan.node(left.pending[0]).outputs
