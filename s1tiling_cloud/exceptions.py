"""S1Tiling's exception hierarchy (same names and constructor arguments), plus the reader's.

Every exception carries the exit code S1Tiling returns for it (`exit_code`), so a CLI or a
runner maps any error to a code with `exit_code_for(exc)`. Messages start with S1Tiling's own
words ("…, exiting...", "Please fix the configuration file …"): users' scripts grep them;
what we know more (which DEM tiles, which file) follows on the next line. Each exception
survives a pickling round trip with its attributes (`__reduce__`): they cross process pools.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from . import exits


class Error(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code: int = exits.UNKNOWN_REASON


class ConfigurationError(Error):
    """A configuration option is missing, undecodable or invalid."""

    exit_code = exits.CONFIG_ERROR

    def __init__(self, message: str, configFile: str | Path | None = None, *args) -> None:  # noqa: N803
        self.message = message
        self.config_file = configFile
        where = f"\nPlease fix the configuration file {str(configFile)!r}." if configFile else ""
        super().__init__(f"{message}{where}", *args)

    def __reduce__(self):
        return (type(self), (self.message, self.config_file))


class InvalidOTBVersionError(Error):
    """The installed Orfeo ToolBox cannot do what the configuration asks."""

    exit_code = exits.CONFIG_ERROR

    def __init__(self, reason: str, *args) -> None:
        self.reason = reason
        super().__init__(reason, *args)

    def __reduce__(self):
        return (type(self), (self.reason,))


class CorruptedDataSAFEError(Error):
    """An empty or corrupted SAFE: it must be removed so that it can be fetched again."""

    exit_code = exits.CORRUPTED_DATA_SAFE

    def __init__(self, product: str | Path, details: str | None = None, *args) -> None:
        self.product = str(product)
        self.details = details
        extra = details or "no manifest, or image files"
        super().__init__(f"Product {self.product!r} appears to be corrupted ({extra}).\n"
                         f"Please remove the raw data for {self.product!r} SAFE file.", *args)

    def __reduce__(self):
        return (type(self), (self.product, self.details))


class MissingMeasurementError(CorruptedDataSAFEError):
    """The manifest lists a measurement file that the product does not contain."""


class NotSentinel1ProductError(Error, ValueError):
    """The location is not a Sentinel-1 SAFE product (e.g. a Sentinel-2 SAFE, a random folder)."""

    def __init__(self, location: str | Path, details: str | None = None, *args) -> None:
        self.location = str(location)
        self.details = details
        text = f"{self.location} is not a Sentinel-1 SAFE product"
        super().__init__(f"{text}: {details}" if details else text, *args)

    def __reduce__(self):
        return (type(self), (self.location, self.details))


class GroupNotFoundError(Error, KeyError):
    """The group asked for does not exist, or its files are missing from the product."""

    def __init__(self, group: str, available: Iterable[str] = (), *args) -> None:
        self.group = group
        self.available = list(available)
        super().__init__(f"group {group!r} not found; available: {', '.join(self.available)}")

    def __reduce__(self):
        return (type(self), (self.group, self.available))

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return self.args[0]


class DownloadS1FileError(Error):
    """Problems to download images for a tile."""

    exit_code = exits.DOWNLOAD_ERROR

    def __init__(self, tile_name: str, *args) -> None:
        self.tile_name = tile_name
        super().__init__(f"Cannot download S1 images associated to {tile_name}.", *args)

    def __reduce__(self):
        return (type(self), (self.tile_name, *self.args[1:]))


class DownloadTimeoutError(DownloadS1FileError):
    """A download timed out, or the product is offline: counted as a timeout (exit 68 alone)."""

    exit_code = exits.OFFLINE_DATA


class DownloadEOFFileError(Error):
    """No matching orbit file (EOF) could be found or downloaded."""

    exit_code = exits.DOWNLOAD_ERROR

    def __init__(self, msg: str, *args) -> None:
        self.msg = msg
        super().__init__(f"Cannot download EOF orbit files: {msg}", *args)

    def __reduce__(self):
        return (type(self), (self.msg,))


class _Detailed(Error):
    """An error whose message is S1Tiling's `TEXT`, then our details (if any) on the next line;
    `details` keeps them (`missing`: the DEM tiles, where known)."""

    TEXT = ""

    def __init__(self, details: str | None = None, *args) -> None:
        self.details = details
        super().__init__(f"{self.TEXT}\n{details}" if details else self.TEXT, *args)

    def __reduce__(self):
        return (_rebuild, (type(self), (self.details, *self.args[1:]), self.__dict__))


def _rebuild(cls: type, args: tuple, state: dict) -> BaseException:
    error = cls(*args)
    error.__dict__.update(state)
    return error


class NoS2TileError(_Detailed, ValueError):
    """Incorrect Sentinel-2 tile names, or no valid tile left to process."""

    exit_code = exits.NO_S2_TILE
    TEXT = "No existing tiles found, exiting..."


class NoS1ImageError(_Detailed):
    """No Sentinel-1 product intersects the requested tiles within the time range."""

    exit_code = exits.NO_S1_IMAGE
    TEXT = "No S1 tiles to process, exiting..."


class MissingDEMError(_Detailed):
    """The DEM tiles that cover the requested Sentinel-2 tiles are not all there."""

    exit_code = exits.MISSING_DEM
    TEXT = "Some DEM tiles are missing, exiting..."


class MissingGeoidError(Error):
    """The geoid file is missing or its path is incorrect."""

    exit_code = exits.MISSING_GEOID

    def __init__(self, geoid_file: str | Path, *args) -> None:
        self.geoid_file = str(geoid_file)
        super().__init__(f"Geoid file does not exists ({geoid_file}), exiting...", *args)

    def __reduce__(self):
        return (type(self), (self.geoid_file, *self.args[1:]))


class InvalidGeoidError(MissingGeoidError):
    """The geoid file exists but is no geoid grid (another raster, CRS, size or values)."""

    def __init__(self, geoid_file: str | Path, reason: str, *args) -> None:
        self.geoid_file = str(geoid_file)
        self.reason = reason
        Error.__init__(self, f"Geoid file {geoid_file} is not a geoid grid: {reason}", *args)

    def __reduce__(self):
        return (type(self), (self.geoid_file, self.reason, *self.args[1:]))


class MissingApplication(Error):  # noqa: N818 (S1Tiling's name)
    """Applications (OTB, NORMLIM, RTC) needed by the requested processing are not installed."""

    exit_code = exits.MISSING_APP

    def __init__(self, missing_apps: dict | Iterable[str], contexts: Iterable[str] = (), *args):
        self.missing_apps = missing_apps if isinstance(missing_apps, dict) else list(missing_apps)
        self.contexts = list(contexts)
        lines = ["Cannot execute S1Tiling because of the following reason(s):"]
        if isinstance(self.missing_apps, dict):
            lines += [f"- {req} for {tasks}" for req, tasks in self.missing_apps.items()]
        else:
            lines += [f"- {req}" for req in self.missing_apps]
        lines += [f" --> {context}" for context in self.contexts]
        super().__init__("\n".join(lines), *args)

    def __reduce__(self):
        return (type(self), (self.missing_apps, self.contexts))


class NotCompatibleInput(Error):  # noqa: N818 (S1Tiling's name)
    """Internal wiring error between the steps of a processing chain."""


class StacPublicationError(Error):
    """A STAC item, collection or catalog could not be published, or does not validate."""

    def __init__(self, message: str, *args) -> None:
        super().__init__(message, *args)

    def __reduce__(self):
        return (type(self), self.args)


class StorageUnreachableError(Error):
    """The object storage endpoint cannot be reached (refused, reset, timed out).

    S1Tiling has no code for it: it ends a run with 78 (`exits.UNKNOWN_REASON`), the code a
    workflow's retry rule retries. Nothing is lost: a re-run once the endpoint answers again
    completes the request.
    """

    def __init__(self, endpoint: str, reason: str, *args) -> None:
        self.endpoint = endpoint
        self.reason = reason
        super().__init__(f"the storage endpoint {endpoint} cannot be reached ({reason}); "
                         "run again once it answers", *args)

    def __reduce__(self):
        return (type(self), (self.endpoint, self.reason))


def exit_code_for(exc: BaseException) -> int:
    """The exit code S1Tiling returns when `exc` ends a run (78 for anything unexpected)."""
    return getattr(exc, "exit_code", exits.UNKNOWN_REASON) if isinstance(exc, Error) else (
        exits.UNKNOWN_REASON
    )
