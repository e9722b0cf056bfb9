"""The image itself: the machine's CA bundle (the pip build secret) is in no layer and in no
history line, the image runs as a non-root user, and its entrypoint is `s1tiling-cloud`."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.container, pytest.mark.slow]

PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\s+(.+?)\s+-----END CERTIFICATE-----", re.S)


def certificates(data: bytes) -> set[bytes]:
    """The DER bytes of every PEM certificate in `data`."""
    return {base64.b64decode(b"".join(body.split())) for body in PEM.findall(data)}


def docker(cli: str, *arguments: str) -> str:
    return subprocess.run([cli, *arguments], capture_output=True, text=True, check=True,
                          timeout=120).stdout


def layer_files(cli: str, image: str):
    """(layer, path, bytes) of every regular file of every layer (deleted ones included)."""
    with (subprocess.Popen([cli, "save", image], stdout=subprocess.PIPE) as saving,
          tarfile.open(fileobj=saving.stdout, mode="r|") as archive):
        for member in archive:
            if not member.name.endswith("layer.tar"):
                continue
            with tarfile.open(fileobj=archive.extractfile(member), mode="r|") as layer:
                for item in layer:
                    if item.isfile():
                        yield member.name, item.name, layer.extractfile(item).read()
    assert saving.returncode == 0


def machine_certificates(bundle: bytes, cli: str, image: str) -> set[bytes]:
    """The CAs of `bundle` that this machine adds to the public ones: those Debian's convention
    puts in /usr/local/share/ca-certificates, else those in no public root store of the image
    (Debian's ca-certificates, certifi's bundles)."""
    local = Path("/usr/local/share/ca-certificates")
    added = set()
    for path in local.rglob("*.crt") if local.is_dir() else ():
        added |= certificates(path.read_bytes())
    if added & certificates(bundle):
        return added & certificates(bundle)
    public = b"".join(data for _, path, data in layer_files(cli, image)
                      if path.startswith("usr/share/ca-certificates/mozilla/")
                      or path.endswith("certifi/cacert.pem"))
    return certificates(bundle) - certificates(public)


def test_the_machine_ca_bundle_is_in_no_layer(docker_cli, image):
    bundle_path = os.environ.get("PIP_CERT") or ""
    if not Path(bundle_path).is_file():
        pytest.skip("PIP_CERT names no CA bundle on this machine: the build had no secret to leak")
    bundle = Path(bundle_path).read_bytes()
    history = docker(docker_cli, "history", "--no-trunc", "--format", "{{.CreatedBy}}", image)
    assert "BEGIN CERTIFICATE" not in history and bundle_path not in history
    assert "pipcert" in history  # the build did mount the secret (so the check below means something)

    own = machine_certificates(bundle, docker_cli, image)
    if not own:
        pytest.skip(f"{bundle_path} holds only public CAs: nothing machine-specific to look for")
    pems = {base64.b64encode(der)[:64] for der in own}  # the first PEM line of each, as written
    leaks = []
    for layer, path, data in layer_files(docker_cli, image):
        if data == bundle or any(der in data for der in own) or any(pem in data for pem in pems):
            leaks.append(f"{layer}: {path}")
        if path.startswith("run/secrets/"):
            leaks.append(f"{layer}: {path} (a secret's mount point with content)")
    assert leaks == []


def test_the_image_runs_as_a_non_root_user_with_its_entrypoint(docker_cli, image):
    config = json.loads(docker(docker_cli, "image", "inspect", image))[0]["Config"]
    assert config["User"] == "1000:1000"
    assert config["Entrypoint"] == ["s1tiling-cloud"]
    assert config["Env"] and any(e.startswith("NUMBA_CACHE_DIR=/tmp/") for e in config["Env"])
    version = docker(docker_cli, "run", "--rm", "--read-only", "--network", "none", image, "--version")
    assert version.strip().startswith("s1tiling-cloud ")
    tools = docker(docker_cli, "run", "--rm", "--read-only", "--network", "none", "--entrypoint",
                   "sh", image, "-c", "id -u; command -v otbcli_SARCalibration; "
                   "ls /usr/share/proj/egm96_15.gtx")
    assert tools.split() == ["1000", "/usr/bin/otbcli_SARCalibration", "/usr/share/proj/egm96_15.gtx"]
