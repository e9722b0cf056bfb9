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
