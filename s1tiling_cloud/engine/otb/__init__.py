"""The `otb` engine: S1Tiling's chain run by Orfeo ToolBox's applications (`otbcli_*`, or
`otbApplication` when importable), for parity with S1Tiling and as a reference for `native`."""

from .apps import OTBApplicationError, available, require, run_app
from .chain import CHAIN_APPS, NotOTBReadable, OtbChain, OtbChainSettings

__all__ = ["CHAIN_APPS", "NotOTBReadable", "OTBApplicationError", "OtbChain", "OtbChainSettings",
           "available", "require", "run_app"]
