"""S1Tiling's `.cfg` configuration: `load_request` (the typed `Request`) and `Configuration`.

>>> from s1tiling_cloud.config import Configuration, check_scenario, load_request
>>> request = load_request("MyS1ToS2.cfg")                  # doctest: +SKIP
>>> check_scenario(request, "s1_process_lia")               # doctest: +SKIP
>>> Configuration("MyS1ToS2.cfg").tile_list                 # doctest: +SKIP
['33NWB']

See docs/config.md for the keys, their defaults and what differs from S1Tiling. The names
below load on first use (`lazy.lazy_exports`): a stage that needs `config.processing` alone
does not pay for the parser.
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "Configuration": ".configuration",
    "CreationOptions": ".creation_options",
    "Request": ".model",
    "SCENARIOS": ".scenario",
    "check_scenario": ".scenario",
    "init_logger": ".logs",
    "load_request": ".parse",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
