"""The plan: a request turned into a DAG of stage calls (`model`), how it is built from a
request and a search outcome (`build`, `request`), and how it reads (`render`)."""

from .build import build_plan
from .model import Node, Plan
from .render import render_json, render_text

__all__ = ["Node", "Plan", "build_plan", "render_json", "render_text"]
