"""Prepare the image's build context and pip settings (called by docker/build.sh).

The context holds only what the Dockerfile needs, so that its layers are keyed on it:
`requirements.txt` (the package's dependencies, from pyproject.toml), `constraints.txt` (the
versions of the environment the tests ran in, so that the image computes the same bytes),
`src/` (the package's source), the entrypoint wrapper and the numba warm-up script. Prints the
context's content key (sha256 of every file in it, and of the Dockerfile) on stdout.

`--pip-conf PATH` also writes the machine's pip index settings (from `pip config list` and the
PIP_* environment) to PATH, for the build's `pipconf` secret: an index URL may carry a token,
so it must not become a build argument, which `docker history` shows.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
SOURCE_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc", "*.egg-info")
#: pip settings that say where packages come from and how to reach it (no `cert`: own secret).
PIP_KEYS = ("index-url", "extra-index-url", "trusted-host", "timeout", "default-timeout", "retries",
            "proxy")


def requirements() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return "\n".join(project["dependencies"]) + "\n"


def constraints(venv_python: Path | None) -> str:
    """Pins of the tested environment (`pip freeze` of .venv), else scripts/constraints.txt."""
    lines = [line for line in (ROOT / "scripts" / "constraints.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    if venv_python and venv_python.exists():
        frozen = subprocess.run([str(venv_python), "-m", "pip", "freeze", "--exclude-editable"],
                                capture_output=True, text=True, check=True).stdout.splitlines()
        pinned = {_name(line) for line in frozen if "==" in line}
        lines = [line for line in lines if _name(line) not in pinned]
        # Direct references (name @ file://...) are not constraints pip accepts, nor reachable.
        lines += [line for line in frozen if "==" in line and " @ " not in line
                  and _name(line) != "s1tiling-cloud"]
    return "\n".join(sorted(lines, key=str.lower)) + "\n"


def _name(line: str) -> str:
    return re.split(r"[=<>!~ @\[;]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


def write_context(context: Path, venv_python: Path | None) -> str:
    if context.exists():
        shutil.rmtree(context)
    (context / "src").mkdir(parents=True)
    (context / "requirements.txt").write_text(requirements())
    (context / "constraints.txt").write_text(constraints(venv_python))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, context / "src" / name)
    shutil.copytree(ROOT / "s1tiling_cloud", context / "src" / "s1tiling_cloud", ignore=SOURCE_IGNORE)
    shutil.copy2(DOCKER / "warm_numba.py", context / "warm_numba.py")
    wrapper = context / "s1tiling-cloud.sh"
    shutil.copy2(DOCKER / "s1tiling-cloud.sh", wrapper)
    wrapper.chmod(0o755)
    return content_key(context, DOCKER / "Dockerfile")


def content_key(context: Path, dockerfile: Path) -> str:
    """sha256 over the names, modes and bytes of the context's files and the Dockerfile."""
    digest = hashlib.sha256()
    files = sorted(p for p in context.rglob("*") if p.is_file())
    for path in [dockerfile, *files]:
        name = "Dockerfile" if path == dockerfile else path.relative_to(context).as_posix()
        digest.update(f"{name}\0{path.stat().st_mode & 0o777:o}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def pip_settings(venv_python: Path | None) -> dict[str, str]:
    """The machine's pip index settings; file:// indexes and find-links cannot reach a build."""
    settings: dict[str, str] = {}
    python = str(venv_python) if venv_python and venv_python.exists() else sys.executable
    listed = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True,
                            text=True, check=False).stdout
    for line in listed.splitlines():
        match = re.match(r"^[^.]*\.([a-z-]+)='(.*)'$", line.strip())
        if match and match[1] in PIP_KEYS:
            settings[match[1]] = match[2]
    for key in PIP_KEYS:
        value = os.environ.get("PIP_" + key.upper().replace("-", "_"))
        if value:
            settings[key] = value
    if "default-timeout" in settings:
        settings["timeout"] = settings.pop("default-timeout")
    for key in ("index-url", "extra-index-url"):
        if key in settings:
            urls = [u for u in settings[key].split() if not u.startswith("file:")]
            settings[key] = " ".join(urls)
            if not urls:
                del settings[key]
    return settings


def write_pip_conf(path: Path, settings: dict[str, str]) -> None:
    path.touch(mode=0o600)
    path.write_text("[global]\n" + "".join(f"{k} = {v}\n" for k, v in sorted(settings.items())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("context", type=Path, help="folder to (re)create")
    parser.add_argument("--venv-python", type=Path, default=ROOT / ".venv" / "bin" / "python")
    parser.add_argument("--pip-conf", type=Path, help="also write the pip settings there")
    args = parser.parse_args()
    print(write_context(args.context, args.venv_python))
    if args.pip_conf:
        write_pip_conf(args.pip_conf, pip_settings(args.venv_python))
    return 0


if __name__ == "__main__":
    sys.exit(main())
