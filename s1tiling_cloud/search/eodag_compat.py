"""What differs between eodag 3 and eodag 4, in one place.

eodag 4 renamed the search parameters after STAC (`productType` -> `collection`,
`relativeOrbitNumber` -> `sat:relative_orbit`, ...), replaced `items_per_page` by `limit`,
configures a gateway with `EODAGSettings` and rebuilds a product with `EOProduct.from_dict`.
The rest of the package asks this module and never tests the version itself.
"""

from __future__ import annotations

import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

__all__ = [
    "EODAG_MAJOR",
    "is_timeout",
    "open_gateway",
    "page_kwargs",
    "product_from_dict",
    "is_offline",
    "s1_grd_query",
    "search_page",
]

EODAG_MAJOR = int(version("eodag").split(".")[0])
COLLECTION = "S1_SAR_GRD"
_ORBIT_STATES = {"ASC": "ascending", "DES": "descending"}


def open_gateway(config: str | Path | None = None):
    """An `EODataAccessGateway` from a user configuration file, or eodag's defaults.

    eodag's defaults: `$EODAG_CFG_FILE`, else `$EODAG_CFG_DIR/eodag.yml`, else
    `~/.config/eodag/eodag.yml`.
    """
    from eodag import EODataAccessGateway

    if config is None:
        return EODataAccessGateway()
    if EODAG_MAJOR >= 4:
        try:
            from eodag.config import EODAGSettings

            return EODataAccessGateway(settings=EODAGSettings(cfg_file=Path(config)))
        except ImportError:  # an early 4.x: the deprecated keyword still works
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return EODataAccessGateway(user_conf_file_path=str(config))


def s1_grd_query(*, polarisations: list[str], orbit_direction: str | None = None,
                 relative_orbit: int | None = None, platform: str | None = None) -> dict[str, Any]:
    """The search criteria S1Tiling sends, in the installed eodag's vocabulary.

    `polarisations`: the requested ones, any case; S1Tiling asks for the dual-polarisation
    products that hold them (`VV+VH` for any of VV, VH; `HH+HV` otherwise).
    """
    pair = ["VV", "VH"] if {p.upper() for p in polarisations} & {"VV", "VH"} else ["HH", "HV"]
    state = _ORBIT_STATES.get(orbit_direction.upper()) if orbit_direction else None
    if EODAG_MAJOR >= 4:
        query: dict[str, Any] = {"collection": COLLECTION, "sar:instrument_mode": "IW",
                                 "sar:polarizations": pair}
        names = ("sat:orbit_state", "sat:relative_orbit", "platform")
    else:
        query = {"productType": COLLECTION, "sensorMode": "IW", "polarizationChannels": "+".join(pair)}
        names = ("orbitDirection", "relativeOrbitNumber", "platformSerialIdentifier")
    for name, value in zip(names, (state, relative_orbit, platform), strict=True):
        if value is not None:
            query[name] = value
    return query


def page_kwargs(page: int, items_per_page: int) -> dict[str, Any]:
    """The paging arguments of `search()`: `page` + `limit` (4) or `items_per_page` (3)."""
    if EODAG_MAJOR >= 4:
        return {"page": page, "limit": items_per_page}
    return {"page": page, "items_per_page": items_per_page}


def search_page(dag, *, page: int, items_per_page: int, **criteria: Any) -> list:
    """One page of results; errors are raised, not logged (`raise_errors=True`)."""
    with warnings.catch_warnings():  # eodag 4 deprecates `page` for `next_page()`
        warnings.simplefilter("ignore", DeprecationWarning)
        result = dag.search(raise_errors=True, **page_kwargs(page, items_per_page), **criteria)
    return list(result[0] if isinstance(result, tuple) else result)  # eodag 2: (products, n)


def product_from_dict(feature: dict[str, Any]):
    """An `EOProduct` rebuilt from `EOProduct.as_dict()` (what a plan carries).

    Rebuilt as serialized, without a gateway: `dag.download()` then attaches the downloader of
    the product's own provider (`eodag:provider`), without re-importing it as a STAC item.
    """
    from eodag.api.product import EOProduct

    if hasattr(EOProduct, "from_dict"):
        return EOProduct.from_dict(feature)
    return EOProduct.from_geojson(feature)


def is_timeout(error: BaseException) -> bool:
    """Whether a timeout is somewhere along the exception chain (S1Tiling's rule).

    Python's `TimeoutError` (= `socket.timeout`), eodag's `TimeOutError`, requests' and urllib3's
    timeouts (recognised by name, so that neither needs importing).
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError):
            return True
        if any("timeout" in cls.__name__.lower() for cls in type(current).__mro__):
            return True
        current = current.__cause__ or current.__context__
    return False


def is_offline(error: BaseException) -> bool:
    """Whether eodag says the product is not available now (offline, still being ordered)."""
    from eodag.utils.exceptions import NotAvailableError

    return isinstance(error, NotAvailableError)
