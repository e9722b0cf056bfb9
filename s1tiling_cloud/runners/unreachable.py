"""Object storage that cannot be reached, whichever client found it, as one typed error.

A run talks to S3 through three clients, each with its own words for "the endpoint is down":
botocore (under s3fs) raises `EndpointConnectionError`, `ConnectTimeoutError`,
`ConnectionClosedError`..., aiohttp under it `ClientConnectorError` or
`ServerDisconnectedError`, and GDAL's `/vsis3/` reports curl's failure as a
`RasterioIOError` whose message quotes curl. Left as they are they end a run with 78 and a
traceback that names no endpoint; translated here, in one place, they end it with
`StorageUnreachableError`: one line naming the endpoint, the same exit code (78), which Argo's
retry rule retries.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from ..exceptions import StorageUnreachableError

#: What GDAL (curl) says when it cannot reach an endpoint.
_CURL_UNREACHABLE = re.compile(
    r"curl error|couldn't connect|could not connect|failed to connect|connection refused"
    r"|connection reset|connection timed out|timeout was reached|recv failure|send failure"
    r"|empty reply from server|couldn't resolve host", re.IGNORECASE)


def _client_errors() -> tuple[type[BaseException], ...]:
    """The connection errors of botocore and aiohttp (those that are installed)."""
    found: list[type[BaseException]] = []
    try:
        from botocore import exceptions as boto

        found += [boto.ConnectionError, boto.HTTPClientError]
    except ImportError:  # pragma: no cover (botocore comes with s3fs)
        pass
    try:
        import aiohttp

        found += [aiohttp.ClientConnectionError]
    except ImportError:  # pragma: no cover
        pass
    return tuple(found)


def _chain(error: BaseException):
    """`error`, then its causes and contexts, each once."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def _endpoint_of(error: BaseException, endpoint: str | None) -> str:
    kwargs = getattr(error, "kwargs", None) or {}
    found = kwargs.get("endpoint_url") or endpoint or os.environ.get("AWS_ENDPOINT_URL")
    if not found and os.environ.get("AWS_S3_ENDPOINT"):
        found = os.environ["AWS_S3_ENDPOINT"]
    if not found:
        return "of S3"
    parts = urlsplit(str(found))  # botocore's URL has the request's path: the endpoint has not
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else str(found)


def storage_unreachable(error: BaseException,
                        endpoint: str | None = None) -> StorageUnreachableError | None:
    """The typed error for `error` when it (or what caused it) says the storage is unreachable.

    Parameters
    ----------
    error : BaseException
        What a run raised.
    endpoint : str, optional
        The configured endpoint URL, named when the error does not carry one (GDAL's).

    Returns
    -------
    StorageUnreachableError or None
        None when `error` is something else.
    """
    if isinstance(error, StorageUnreachableError):
        return error
    client_errors = _client_errors()
    for found in _chain(error):
        if isinstance(found, client_errors):
            return StorageUnreachableError(_endpoint_of(found, endpoint), _reason(found))
        if type(found).__module__.startswith("rasterio") and _CURL_UNREACHABLE.search(str(found)):
            return StorageUnreachableError(_endpoint_of(found, endpoint), _reason(found))
    return None


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
