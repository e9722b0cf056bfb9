"""S1Tiling's `.cfg` configuration: `load_request` (the typed `Request`) and `Configuration`.

>>> from s1tiling_cloud.config import Configuration, check_scenario, load_request
>>> request = load_request("MyS1ToS2.cfg")                  # doctest: +SKIP
>>> check_scenario(request, "s1_process_lia")               # doctest: +SKIP
>>> Configuration("MyS1ToS2.cfg").tile_list                 # doctest: +SKIP
['33NWB']

See docs/config.md for the keys, their defaults and what differs from S1Tiling.
"""

from .configuration import Configuration
from .creation_options import CreationOptions
from .logs import init_logger
from .model import Request
from .parse import load_request
from .scenario import SCENARIOS, check_scenario

__all__ = ["SCENARIOS", "Configuration", "CreationOptions", "Request", "check_scenario", "init_logger",
           "load_request"]
