"""Bad input gets a clear, typed error that names the file, and nothing is written."""

from __future__ import annotations

import shutil
import zipfile

import pytest
import xarray as xr

from s1tiling_cloud import exits
from s1tiling_cloud.exceptions import (
    CorruptedDataSAFEError,
    GroupNotFoundError,
    MissingMeasurementError,
    NotSentinel1ProductError,
    exit_code_for,
)
from s1tiling_cloud.safe import Sentinel1Product
from tests.conftest import GRD_ROME, SAFE_DIR, SLC_2021, SLC_2021_ZIP

needs_fixtures = pytest.mark.skipif(not SAFE_DIR.is_dir(), reason=f"fixtures not at {SAFE_DIR}")

S2_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<xfdu:XFDU xmlns:xfdu="urn:ccsds:schema:xfdu:1" xmlns:safe="http://www.esa.int/safe/sentinel/1.1">
  <metadataSection><metadataObject ID="platform"><metadataWrap><xmlData><safe:platform>
    <safe:nssdcIdentifier>2015-028A</safe:nssdcIdentifier>
    <safe:familyName>SENTINEL-2</safe:familyName><safe:number>A</safe:number>
  </safe:platform></xmlData></metadataWrap></metadataObject></metadataSection>
</xfdu:XFDU>
"""


def test_sentinel2_safe_is_refused_by_name(tmp_path):
    safe = tmp_path / "S2A_MSIL1C_20200108T104421_N0208_R008_T31TCJ_20200108T111144.SAFE"
    safe.mkdir()
    (safe / "manifest.safe").write_text(S2_MANIFEST)
    with pytest.raises(NotSentinel1ProductError, match="SENTINEL-2") as error:
        Sentinel1Product(safe)
    assert str(safe) in str(error.value)


def test_folder_without_manifest(tmp_path):
    with pytest.raises(NotSentinel1ProductError, match="no manifest.safe"):
        xr.open_dataset(tmp_path, engine="s1safe")


def test_missing_path_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such product"):
        Sentinel1Product(tmp_path / "S1A_nothing.SAFE")


def test_invalid_manifest_xml_is_corrupted(tmp_path):
    safe = tmp_path / "S1A_IW_GRDH_1SDV_X.SAFE"
    safe.mkdir()
    (safe / "manifest.safe").write_text("<xfdu:XFDU><unclosed>")
    with pytest.raises(CorruptedDataSAFEError, match="invalid XML"):
        Sentinel1Product(safe)


@needs_fixtures
def test_truncated_zip_is_corrupted(tmp_path):
    source = SAFE_DIR / SLC_2021_ZIP
    truncated = tmp_path / SLC_2021_ZIP
    truncated.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    with pytest.raises(CorruptedDataSAFEError) as error:
        xr.open_dataset(truncated)
    assert SLC_2021_ZIP in str(error.value)
    assert exit_code_for(error.value) == exits.CORRUPTED_DATA_SAFE == 71
    assert truncated.stat().st_size == source.stat().st_size // 2  # left as it was


@needs_fixtures
def test_zip_without_manifest(tmp_path):
    path = tmp_path / "S1A_IW_GRDH_1SDV_empty.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.txt", "not a product")
    with pytest.raises(NotSentinel1ProductError, match="no manifest.safe"):
        Sentinel1Product(path)


@needs_fixtures
def test_missing_measurement_names_the_file(tmp_path):
    copy = tmp_path / GRD_ROME
    shutil.copytree(SAFE_DIR / GRD_ROME, copy)
    tiff = next((copy / "measurement").glob("*.tiff"))
    tiff.unlink()
    product = Sentinel1Product(copy)
    assert "IW/VV" not in product.groups  # what can't be opened is not listed
    assert "IW/VV/calibration" in product.groups  # the rest still opens
    with pytest.raises(MissingMeasurementError, match=tiff.name) as error:
        product.open_group("IW/VV")
    assert isinstance(error.value, CorruptedDataSAFEError)


@needs_fixtures
def test_unknown_group_lists_the_available_ones():
    product = Sentinel1Product(SAFE_DIR / SLC_2021)
    with pytest.raises(GroupNotFoundError, match="IW3/HH") as error:  # listed nowhere
        product.open_group("IW3/HH")
    assert "IW1/VV" in error.value.available
    # IW3 VV is listed by the manifest, its files are not in the fixture: a corrupted product
    with pytest.raises(CorruptedDataSAFEError, match="annotation/s1b-iw3-slc-vv-.*listed in the manifest"):
        product.open_group("IW3/VV")
    with pytest.raises(KeyError):  # also a KeyError, as a dict lookup would be
        product.open_group("IW1/VV/nothing")


@needs_fixtures
def test_garbage_measurement_is_corrupted(tmp_path):
    copy = tmp_path / GRD_ROME
    shutil.copytree(SAFE_DIR / GRD_ROME, copy)
    tiff = next((copy / "measurement").glob("*.tiff"))
    tiff.write_bytes(b"this is not a tiff")
    with pytest.raises(CorruptedDataSAFEError, match="unreadable measurement"):
        Sentinel1Product(copy).open_group("IW/VV")


@needs_fixtures
@pytest.mark.parametrize("element, spoiled, read, group", [
    ("<latitude>", "<latitude>north ", lambda p: p.open_group("IW/VV/gcp"), "IW/VV/gcp"),
    # the measurement reader (no xarray) checks the TIFF's size against the annotation's
    ("<numberOfLines>", "<numberOfLines>x", lambda p: p.measurement("IW", "VV"), "IW/VV"),
], ids=["a group", "the measurement"])
def test_malformed_annotation_values_are_corrupted_data(tmp_path, element, spoiled, read, group):
    copy = tmp_path / GRD_ROME
    shutil.copytree(SAFE_DIR / GRD_ROME, copy)
    annotation = next((copy / "annotation").glob("s1b-iw-grd-vv-*.xml"))
    text = annotation.read_text()
    annotation.write_text(text.replace(element, spoiled, 1))
    with pytest.raises(CorruptedDataSAFEError, match=group) as error:
        read(Sentinel1Product(copy))
    assert exit_code_for(error.value) == 71


def test_a_missing_annotation_is_a_corrupted_product_naming_the_file(tmp_path):
    """The manifest lists the VH annotation but it is gone: 71 naming it, not an unknown group."""
    from s1tiling_cloud.testing import SyntheticGRD, write_grd

    product = write_grd(SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=200, samples=300),
                        tmp_path)
    annotation = next((product / "annotation").glob("*-vh-*.xml"))
    annotation.unlink()
    opened = Sentinel1Product(product)
    assert "IW/VV" in opened.groups  # the rest still opens
    with pytest.raises(CorruptedDataSAFEError) as caught:
        opened.open_group("IW/VH")
    assert exit_code_for(caught.value) == exits.CORRUPTED_DATA_SAFE == 71
    assert annotation.name in str(caught.value)
    with pytest.raises(GroupNotFoundError):  # a group the manifest does not promise
        opened.open_group("IW/HH")


def test_a_truncated_measurement_is_a_corrupted_product_naming_the_file(tmp_path):
    """The measurement lost its second half: 71 naming it, not 'Read failed'."""
    from s1tiling_cloud.testing import SyntheticGRD, write_grd

    product = write_grd(SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=200, samples=300),
                        tmp_path)
    tiff = next((product / "measurement").glob("*-vv-*.tiff"))
    tiff.write_bytes(tiff.read_bytes()[: tiff.stat().st_size // 2])
    with pytest.raises(CorruptedDataSAFEError) as caught:
        Sentinel1Product(product).open_group("IW/VV")["measurement"].values  # noqa: B018
    assert exit_code_for(caught.value) == 71
    assert tiff.name in str(caught.value)


def _zip_with_a_damaged_member(tmp_path):
    """(the zip, the damaged measurement's name): a stored zip of a synthetic product with
    4 KB of 0xFF in the middle of its VV measurement."""
    from s1tiling_cloud.testing import SyntheticGRD, write_grd

    product = write_grd(SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=200, samples=300),
                        tmp_path / "folder")
    archive = tmp_path / f"{product.stem}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:
        for path in sorted(product.rglob("*")):
            if path.is_file():
                out.write(path, f"{product.name}/{path.relative_to(product).as_posix()}")
    assert "IW/VV" in Sentinel1Product(archive).groups  # intact: opens
    tiff = next((product / "measurement").glob("*-vv-*.tiff"))
    content, data = tiff.read_bytes(), bytearray(archive.read_bytes())
    at = data.find(content[len(content) // 2: len(content) // 2 + 64])
    assert at > 0
    data[at:at + 4096] = b"\xff" * 4096
    archive.write_bytes(bytes(data))
    return archive, tiff.name


def test_a_zip_member_failing_its_crc_is_a_corrupted_product(tmp_path):
    """4 KB of 0xFF inside a stored measurement of a zip: GDAL would read them as pixels; the
    zip's CRC names the member (71)."""
    archive, tiff = _zip_with_a_damaged_member(tmp_path)
    with pytest.raises(CorruptedDataSAFEError) as caught:
        Sentinel1Product(archive)
    assert exit_code_for(caught.value) == 71
    assert tiff in str(caught.value) and "CRC" in str(caught.value)


@pytest.mark.s3
def test_a_zip_on_s3_failing_its_crc_is_a_corrupted_product(tmp_path, s3_server):
    """The same damaged zip read through the S3 API: 71 naming the zip and the member."""
    from tests.s3server import storage_options, upload

    archive, tiff = _zip_with_a_damaged_member(tmp_path)
    url = upload(s3_server, "damaged-zips", archive)
    with pytest.raises(CorruptedDataSAFEError) as caught:
        Sentinel1Product(url, storage_options=storage_options(s3_server))
    assert exit_code_for(caught.value) == 71
    assert url in str(caught.value) and tiff in str(caught.value) and "CRC" in str(caught.value)


def test_a_failed_crc_pass_is_not_remembered(tmp_path, monkeypatch):
    """A read error during the CRC pass (the network's) propagates and is not cached as a good
    zip: the next opening reads it again and finds the damaged member."""
    from s1tiling_cloud.safe import location

    archive, tiff = _zip_with_a_damaged_member(tmp_path)
    real = location.zipfile.ZipFile
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("connection reset")
        return real(*args, **kwargs)

    monkeypatch.setattr(location.zipfile, "ZipFile", flaky)
    with pytest.raises(OSError, match="connection reset"):
        Sentinel1Product(archive)
    with pytest.raises(CorruptedDataSAFEError) as caught:
        Sentinel1Product(archive)
    assert tiff in str(caught.value)


def test_an_unsupported_compression_is_a_corrupted_product(tmp_path, monkeypatch):
    """zipfile's NotImplementedError (a compression it lacks) during the CRC pass: 71."""
    from s1tiling_cloud.safe import location

    archive, _ = _zip_with_a_damaged_member(tmp_path)

    def unsupported(*args, **kwargs):
        raise NotImplementedError("That compression method is not supported")

    monkeypatch.setattr(location.zipfile, "ZipFile", unsupported)
    with pytest.raises(CorruptedDataSAFEError) as caught:
        Sentinel1Product(archive)
    assert exit_code_for(caught.value) == 71 and archive.name in str(caught.value)


def test_open_location_can_skip_the_crc_pass(tmp_path):
    from s1tiling_cloud.safe.location import MANIFEST, open_location

    archive, _ = _zip_with_a_damaged_member(tmp_path)
    assert open_location(archive, check_crc=False).read(MANIFEST)


def test_a_manifest_saying_ew_over_iw_files_is_refused(tmp_path):
    from s1tiling_cloud.testing import SyntheticGRD, write_grd

    product = write_grd(SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=200, samples=300),
                        tmp_path)
    manifest = product / "manifest.safe"
    text = manifest.read_text()
    assert "<s1sarl1:mode>IW</s1sarl1:mode>" in text
    manifest.write_text(text.replace("<s1sarl1:mode>IW</s1sarl1:mode>", "<s1sarl1:mode>EW</s1sarl1:mode>"))
    with pytest.raises(CorruptedDataSAFEError) as caught:
        Sentinel1Product(product)
    assert exit_code_for(caught.value) == 71
    assert "mode EW" in str(caught.value) and "IW" in str(caught.value)
