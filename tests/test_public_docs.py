"""The public functions say their parameters, result and errors (numpydoc), as rasterio and
pystac document theirs."""

from __future__ import annotations

import inspect

import pytest

from s1tiling_cloud import api, argo
from s1tiling_cloud.config import scenario

PUBLIC = [(module, name) for module in (api, argo, scenario) for name in module.__all__
          if inspect.isfunction(getattr(module, name)) or inspect.isclass(getattr(module, name))]


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=[f"{m.__name__}.{n}" for m, n in PUBLIC])
def test_every_parameter_is_documented(module, name):
    thing = getattr(module, name)
    if inspect.isclass(thing) and issubclass(thing, Exception):
        return  # S1Tiling's exceptions: their messages are tested in test_exits.py
    doc = inspect.getdoc(thing) or ""
    parameters = [p for p in inspect.signature(thing).parameters if p not in ("self", "cls")]
    if not parameters:
        return
    assert "Parameters\n----------" in doc or "Attributes\n----------" in doc, f"{name}: no Parameters"
    for parameter in parameters:
        assert parameter in doc, f"{name}: {parameter} undocumented"
    if inspect.isfunction(thing) and inspect.signature(thing).return_annotation not in (None, "None"):
        assert "Returns\n-------" in doc, f"{name}: no Returns"
