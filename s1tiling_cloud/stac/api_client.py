"""Push collections and items to a STAC API with the Transactions extension, idempotently.

Create (`POST`), and when the API says it exists already (409), replace it (`PUT`): a re-run
updates what it published before and never duplicates it. The standard library's HTTP client
is enough for four requests. A bearer token, if the API needs one, comes from the environment
(`STAC_API_TOKEN`), never from the configuration: it must not land in a plan or a log.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..exceptions import StacPublicationError

__all__ = ["StacApiClient"]

TOKEN_ENV = "STAC_API_TOKEN"
_RETRIED = {429, 502, 503, 504}


class StacApiClient:
    """A STAC API at `url` (its landing page), for collection and item upserts."""

    def __init__(self, url: str, *, timeout_s: float = 30.0, attempts: int = 4) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.attempts = attempts

    def __repr__(self) -> str:
        return f"StacApiClient({self.url!r})"

    def upsert_collection(self, collection: Mapping[str, Any]) -> str:
        """Create or replace a collection; 'created' or 'updated'."""
        cid = quote(collection["id"], safe="")
        return self._upsert(f"{self.url}/collections", f"{self.url}/collections/{cid}", collection)

    def upsert_item(self, item: Mapping[str, Any]) -> str:
        """Create or replace an item of its `collection`; 'created' or 'updated'."""
        base = f"{self.url}/collections/{quote(item['collection'], safe='')}/items"
        return self._upsert(base, f"{base}/{quote(item['id'], safe='')}", item)

    def _upsert(self, create_url: str, replace_url: str, document: Mapping[str, Any]) -> str:
        status, body = self._request("POST", create_url, document)
        if status in (200, 201):
            return "created"
        if status == 409:
            status, body = self._request("PUT", replace_url, document)
            if status in (200, 201, 204):
                return "updated"
        raise StacPublicationError(f"STAC API refused {document.get('id')!r} at {create_url}: "
                                   f"HTTP {status} {body[:500]}")

    def _request(self, method: str, url: str, document: Mapping[str, Any]) -> tuple[int, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if os.environ.get(TOKEN_ENV):
            headers["Authorization"] = f"Bearer {os.environ[TOKEN_ENV]}"
        data = json.dumps(document).encode()
        for attempt in range(self.attempts):
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return response.status, response.read().decode(errors="replace")
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read().decode(errors="replace")
                if status not in _RETRIED or attempt == self.attempts - 1:
                    return status, body
            except OSError as error:
                if attempt == self.attempts - 1:
                    raise StacPublicationError(f"STAC API at {self.url} unreachable: {error}") from None
            time.sleep(0.5 * 2 ** attempt)
        raise StacPublicationError(f"STAC API at {self.url}: no answer")  # pragma: no cover
