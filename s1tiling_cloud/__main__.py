"""`python -m s1tiling_cloud`: the `s1tiling-cloud` command."""

from .cli import app

app(prog_name="s1tiling-cloud")
