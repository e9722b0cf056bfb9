"""The static catalog: publication by the stage, idempotence, pystac reads it, rebuild, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pystac
from typer.testing import CliRunner

from s1tiling_cloud.cli import app
from s1tiling_cloud.stac.static_catalog import StaticCatalog
from s1tiling_cloud.stac.validate import validate_catalog
from s1tiling_cloud.stages.registry import run_stage


def _publish_all(made, catalog: str) -> None:
    for files in made:
        result = run_stage("publish", {"products": files.products, "catalog": catalog,
                                       "masks": files.masks, "quicklooks": files.quicklooks,
                                       "inputs": list(files.inputs)})
        assert result.outputs[0].endswith(".json")


def test_publish_twice_validate_and_read_with_pystac(chain, tmp_path, schema_dir):
    _, made = chain
    catalog = str(tmp_path / "catalog.json")
    _publish_all(made, catalog)
    collection_file = tmp_path / "s1tiling-sigma0" / "collection.json"
    first = collection_file.read_bytes()
    _publish_all(made, catalog)  # a re-run: same documents, no duplicate link
    assert collection_file.read_bytes() == first
    report = validate_catalog(catalog, schema_dir=schema_dir)
    assert report.ok, report.errors
    assert (report.documents, report.items) == (6, 4)

    root = pystac.Catalog.from_file(catalog)
    items = list(root.get_items(recursive=True))
    assert len(items) == 4 and len({item.id for item in items}) == 4
    collection = root.get_child("s1tiling-sigma0")
    assert collection.summaries.get_list("sat:relative_orbit") == [7, 24]
    assert collection.summaries.get_list("sat:orbit_state") == ["ascending", "descending"]
    west, south, east, north = collection.extent.spatial.bboxes[0]
    for item in items:
        assert west <= item.bbox[0] and south <= item.bbox[1]
        assert east >= item.bbox[2] and north >= item.bbox[3]
    start, end = collection.extent.temporal.intervals[0]
    assert start.isoformat().startswith("2020-01-08T04:41:50")
    assert end.isoformat().startswith("2020-01-21T17:30:10")


def test_validate_without_extension_schemas_checks_the_core(chain, tmp_path, monkeypatch):
    """The package ships no extension schema: without a folder, the core schemas (pystac's) are
    still checked, and the extensions are reported as not checked, never downloaded."""
    monkeypatch.delenv("S1TILING_STAC_SCHEMAS", raising=False)
    _, made = chain
    catalog = tmp_path / "catalog.json"
    _publish_all(made[:1], str(catalog))
    report = validate_catalog(str(catalog))
    assert report.ok, report.errors
    assert any("/sar/" in uri for uri in report.unchecked_extensions)
    valid = CliRunner().invoke(app, ["catalog", "validate", str(catalog)])
    assert valid.exit_code == 0 and "not checked" in valid.output, valid.output
    item_file = next(tmp_path.glob("s1tiling-sigma0/*/*.json"))
    item = json.loads(item_file.read_text())
    del item["geometry"]  # a core field: still an error
    item_file.write_text(json.dumps(item))
    broken = CliRunner().invoke(app, ["catalog", "validate", str(catalog)])
    assert broken.exit_code == 1, broken.output
    assert "'geometry' is a required property" in " ".join(broken.output.split())


def test_rebuild_keeps_inputs_and_cli_validate_fails_on_bad_documents(chain, tmp_path, schema_dir):
    out, made = chain
    work = tmp_path / "out"
    shutil.copytree(out, work)
    _publish_all(made[:1], str(work / "catalog.json"))  # one item already has derived_from links
    runner = CliRunner()
    result = runner.invoke(app, ["catalog", "rebuild", str(work)])
    assert result.exit_code == 0, result.output
    catalog = StaticCatalog(str(work / "catalog.json"))
    items = dict((doc["id"], doc) for _, doc in catalog.items())
    assert len(items) == 4
    derived = [link for link in items["s1a_31TCJ_DES_007_20200108t044150"]["links"]
               if link["rel"] == "derived_from"]
    assert derived and derived[0]["title"] == made[0].inputs[0]["id"]
    assert set(items["s1a_31TCJ_ASC_024_20200121t173010"]["assets"]) >= {"vv", "vh", "mask_vv",
                                                                          "quicklook_vh"}
    validate = ["catalog", "validate", str(work / "catalog.json"), "--schemas", str(schema_dir)]
    assert runner.invoke(app, validate).exit_code == 0

    item_file = next(Path(work, "s1tiling-sigma0").glob("*/*.json"))
    good = item_file.read_text()
    document = json.loads(good)
    document["properties"]["sar:frequency_band"] = "Z"
    item_file.write_text(json.dumps(document))
    result = runner.invoke(app, validate)
    assert result.exit_code == 1 and "invalid" in result.output
    item_file.write_text(good[: len(good) // 2])  # torn JSON
    assert runner.invoke(app, validate).exit_code == 1
