"""S1Tiling's exit codes: the Situation rule and the code each exception maps to."""

from __future__ import annotations

import pytest

from s1tiling_cloud import exceptions as ex
from s1tiling_cloud import exits
from s1tiling_cloud.exits import Situation


@pytest.mark.parametrize(
    "counts,code",
    [
        ((0, 0, 0, 0), 0),
        ((1, 0, 0, 0), 66),
        ((1, 1, 1, 1), 66),  # computation errors win
        ((0, 1, 0, 0), 67),  # a search failure
        ((0, 0, 2, 1), 67),  # more download failures than timeouts
        ((0, 0, 1, 1), 68),  # only timeouts: offline data
    ],
)
def test_situation_rule(counts, code):
    assert Situation(*counts).code == code


def test_situation_report_line():
    assert str(Situation(1, 2, 3, 4)) == (
        "Situation: 1 computations errors. 2 search failures. 3 download failures. "
        "4 download timeouts"
    )


@pytest.mark.parametrize(
    "error,code",
    [
        (ex.ConfigurationError("bad key", "/x.cfg"), 72),
        (ex.InvalidOTBVersionError("too old"), 72),
        (ex.CorruptedDataSAFEError("S1A_X", "empty"), 71),
        (ex.DownloadS1FileError("33NWB"), 67),
        (ex.DownloadEOFFileError("no EOF"), 67),
        (ex.NoS2TileError(), 73),
        (ex.NoS1ImageError(), 74),
        (ex.MissingDEMError(), 75),
        (ex.MissingGeoidError("/egm96.gtx"), 76),
        (ex.MissingApplication(["otbcli_SARCalibration"]), 77),
        (ex.NotCompatibleInput(), 78),
        (RuntimeError("anything else"), 78),
    ],
)
def test_exit_code_of_each_exception(error, code):
    assert ex.exit_code_for(error) == code


def test_exceptions_keep_s1tiling_arguments():
    error = ex.ConfigurationError("Missing option", "/tmp/a.cfg")
    assert error.config_file == "/tmp/a.cfg" and "a.cfg" in str(error)
    assert ex.CorruptedDataSAFEError("P", "d").product == "P"
    assert ex.MissingGeoidError("/g.gtx").geoid_file == "/g.gtx"
    assert all(issubclass(c, ex.Error) for c in (ex.NoS2TileError, ex.MissingDEMError))
    assert exits.UNKNOWN_REASON == 78


def test_translate_exception_into_exit_code_is_s1tilings_name():
    assert exits.translate_exception_into_exit_code(ex.MissingDEMError()) == 75
    assert exits.translate_exception_into_exit_code(KeyError("x")) == 78


@pytest.mark.parametrize(
    "error,message",
    [
        (ex.ConfigurationError("Missing option", "/tmp/a.cfg"),
         "Missing option\nPlease fix the configuration file '/tmp/a.cfg'."),
        (ex.CorruptedDataSAFEError("S1A_X", None),
         "Product 'S1A_X' appears to be corrupted (no manifest, or image files).\n"
         "Please remove the raw data for 'S1A_X' SAFE file."),
        (ex.DownloadS1FileError("33NWB"), "Cannot download S1 images associated to 33NWB."),
        (ex.DownloadEOFFileError("none found"), "Cannot download EOF orbit files: none found"),
        (ex.NoS2TileError(), "No existing tiles found, exiting..."),
        (ex.NoS1ImageError(), "No S1 tiles to process, exiting..."),
        (ex.MissingDEMError(), "Some DEM tiles are missing, exiting..."),
        (ex.MissingDEMError("31TCJ: N43E001"), "Some DEM tiles are missing, exiting...\n31TCJ: N43E001"),
        (ex.MissingGeoidError("/g.gtx"), "Geoid file does not exists (/g.gtx), exiting..."),
        (ex.MissingApplication({"SARCalibration": ["ortho"]}, ["install OTB"]),
         "Cannot execute S1Tiling because of the following reason(s):\n"
         "- SARCalibration for ['ortho']\n --> install OTB"),
    ],
)
def test_messages_are_s1tilings_word_for_word(error, message):
    assert str(error) == message


@pytest.mark.parametrize(
    "error,attributes",
    [
        (ex.ConfigurationError("Missing option", "/tmp/a.cfg"), {"message": "Missing option",
                                                                 "config_file": "/tmp/a.cfg"}),
        (ex.InvalidOTBVersionError("too old"), {"reason": "too old"}),
        (ex.CorruptedDataSAFEError("S1A_X", "empty"), {"product": "S1A_X", "details": "empty"}),
        (ex.MissingMeasurementError("S1A_X", "no tiff"), {"product": "S1A_X", "details": "no tiff"}),
        (ex.DownloadS1FileError("33NWB"), {"tile_name": "33NWB"}),
        (ex.DownloadTimeoutError("33NWB"), {"tile_name": "33NWB"}),
        (ex.DownloadEOFFileError("none found"), {"msg": "none found"}),
        (ex.NoS2TileError("none among 3XYZ"), {"details": "none among 3XYZ"}),
        (ex.NoS1ImageError(), {"details": None}),
        (ex.MissingGeoidError("/g.gtx"), {"geoid_file": "/g.gtx"}),
        (ex.InvalidGeoidError("/g.png", "not a grid"), {"geoid_file": "/g.png", "reason": "not a grid"}),
        (ex.MissingApplication(["otbcli_X"], ["ctx"]), {"missing_apps": ["otbcli_X"], "contexts": ["ctx"]}),
        (ex.NotSentinel1ProductError("/x", "no manifest"), {"location": "/x", "details": "no manifest"}),
        (ex.GroupNotFoundError("IW1/VV", ["IW1/VH"]), {"group": "IW1/VV", "available": ["IW1/VH"]}),
        (ex.StacPublicationError("bad item"), {}),
    ],
)
def test_exceptions_survive_pickling_with_their_attributes(error, attributes):
    import pickle

    if isinstance(error, ex.MissingDEMError):
        error.missing = ["N43E001"]
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error)
    for name, value in attributes.items():
        assert getattr(again, name) == value
    assert ex.exit_code_for(again) == ex.exit_code_for(error)


def test_missing_dem_error_keeps_the_missing_tiles_through_pickling():
    import pickle

    error = ex.MissingDEMError("31TCJ: N43E001")
    error.missing = ["N43E001"]
    again = pickle.loads(pickle.dumps(error))
    assert again.missing == ["N43E001"] and again.details == "31TCJ: N43E001"
