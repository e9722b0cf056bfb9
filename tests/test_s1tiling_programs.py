"""S1Tiling's own command names (`S1Processor`, `S1LIAMap`, `S1IAMap`, `S1GammaAreaMap`):
console scripts of the package, with S1Tiling's options and exit codes."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ("S1Processor", "S1LIAMap", "S1IAMap", "S1GammaAreaMap")


def run_program(name: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The console script `name` as pip installs it: its entry point called with `args`."""
    code = (f"import sys; from s1tiling_cloud.cli import {name}; "
            f"sys.argv = [{name!r}, *sys.argv[1:]]; {name}()")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                                "COLUMNS": "200"}, timeout=300)


def test_the_programs_are_console_scripts():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for name in PROGRAMS:
        module, function = scripts[name].split(":")
        assert callable(getattr(importlib.import_module(module), function))


@pytest.mark.parametrize(("name", "options"), [
    ("S1Processor", ["--cache-before-ortho", "--searched_items_per_page", "--eodag_download_timeout"]),
    ("S1GammaAreaMap", ["--searched_items_per_page", "--nb_max_search_retries"]),
    ("S1LIAMap", ["--dryrun", "--debug-caches", "--watch-ram", "--graphs"]),
    ("S1IAMap", ["--trace-errors", "--debug-otb"]),
])
def test_s1tiling_options(name, options):
    done = run_program(name, "--help")
    assert done.returncode == 0, done.stderr
    assert f"Usage: {name} " in done.stdout
    for option in options:
        assert option in done.stdout
    version = run_program(name, "--version")
    assert version.returncode == 0 and name in version.stdout


def test_a_bad_configuration_ends_with_72_and_s1tilings_words(tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("[Paths]\noutput : /data/out\n")
    done = run_program("S1LIAMap", str(cfg))
    assert done.returncode == 72
    assert "Please fix the configuration file" in done.stdout + done.stderr
