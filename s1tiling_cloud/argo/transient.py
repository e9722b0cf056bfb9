"""Transient API errors: what a pod that talks to Kubernetes or the Argo Server for hours
retries with backoff instead of failing the workflow (a control-plane restart, a 429, a reset
connection), and what it does not (403, 404, 422: retrying cannot help)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

#: HTTP statuses worth another try (0: no response at all, as the Kubernetes client reports it).
TRANSIENT_STATUSES = frozenset({0, 408, 429, 500, 502, 503, 504})


def http_status(error: BaseException) -> int | None:
    """The HTTP status of a Kubernetes client, Hera or `requests` error (None: not an HTTP one)."""
    for owner in (error, getattr(error, "response", None)):
        for attribute in ("status", "status_code"):
            value = getattr(owner, attribute, None)
            if isinstance(value, int):
                return value
    return None


def is_transient(error: BaseException) -> bool:
    """A connection-level failure, or an HTTP status in `TRANSIENT_STATUSES`."""
    import requests
    import urllib3

    if isinstance(error, (ConnectionError, TimeoutError, urllib3.exceptions.HTTPError,
                          requests.ConnectionError, requests.Timeout)):
        return True
    status = http_status(error)
    return status in TRANSIENT_STATUSES if status is not None else False


@dataclass(frozen=True)
class Backoff:
    """Waits of `first`, ×`factor` each time, at most `longest`; gives up after `attempts`."""

    attempts: int = 12
    first: float = 2.0
    factor: float = 2.0
    longest: float = 120.0

    def waits(self) -> list[float]:
        return [min(self.first * self.factor ** i, self.longest) for i in range(self.attempts - 1)]


#: Backoff of every API call of the launching and watching loops: ~20 min of errors at most.
API_BACKOFF = Backoff()


def with_retries(call: Callable[[], T], what: str, backoff: Backoff = API_BACKOFF,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """`call()`, retried on transient errors; the last error once `backoff` is spent."""
    for wait in [*backoff.waits(), None]:
        try:
            return call()
        except Exception as error:
            if wait is None or not is_transient(error):
                raise
            log.warning("%s: %s; retrying in %.0f s", what, error, wait)
            sleep(wait)
    raise AssertionError("unreachable")
