"""The package stands on its own: a wheel built from the repository, installed outside the
checkout, runs the demo, renders a workflow and validates the demo's catalog with nothing of the
checkout or of `../shared` reachable (the installed copy is the one imported). It is also the
test of the `demo` command as the README runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel (built from a copy of the sources, so no stale build/ of the checkout leaks in),
    installed with `pip install --target`: the folder to put on PYTHONPATH."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(ROOT / "s1tiling_cloud", source / "s1tiling_cloud",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", ".", "-w", str(base / "dist")],
         source, env)
    wheels = list((base / "dist").glob("s1tiling_cloud-*.whl"))
    assert len(wheels) == 1, wheels
    target = base / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
          str(wheels[0])], base, env)
    return target


def test_installed_wheel_runs_demo_render_and_validate(installed, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("S1TILING_") and k not in ("PYTHONPATH", "HOME")}
    env.update(PYTHONPATH=str(installed), HOME=str(home), NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    python = [sys.executable, "-m", "s1tiling_cloud"]

    where = _run([sys.executable, "-c", "import s1tiling_cloud; print(s1tiling_cloud.__file__)"], home, env)
    assert Path(where.stdout.strip()).is_relative_to(installed)
    assert not (installed / "s1tiling_cloud" / "testing" / "stac_provider.py").exists()

    out = home / "demo"
    demo = _run(python + ["demo", str(out)], home, env, timeout=600)
    assert "31TCJ" in demo.stdout and "quicklook" in demo.stdout
    assert len(list((out / "output" / "31TCJ").glob("*_BorderMask.tif"))) == 2
    said = "".join(demo.stdout.split())  # rich wraps long lines
    assert "".join(f"Open {out / 'output' / 'index.html'} in a browser".split()) in said

    rendered = _run(python + ["workflow", "render", str(out / "demo.cfg")], home, env)
    assert "kind: Workflow" in rendered.stdout and "workflowTemplateRef" in rendered.stdout

    validated = _run(python + ["catalog", "validate", str(out / "output" / "catalog.json")], home, env)
    summary = " ".join(validated.stdout.split())
    assert "valid" in summary and "problems" not in summary and "not checked" in summary
