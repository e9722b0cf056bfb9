"""Secrets never leak: recognisable values in every credential variable and in a `[Paths]` URL,
then every log (with `-v`), output tag, `.aux.xml`, STAC item, plan JSON, rendered workflow and
error message is searched for them (real S3 API server over HTTP, the real CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from s1tiling_cloud.config import load_request
from s1tiling_cloud.config.secrets import MASK, redact, secret_values
from s1tiling_cloud.exceptions import ConfigurationError, exit_code_for
from tests.plan.requests import write_config, write_scene
from tests.s3server import REGION, s3_client

from .conftest import MINIMAL_CFG, edit_cfg

#: Every kind of credential variable, each with a value no one could mistake.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIARECOGNISABLEKEY1",
    "AWS_SECRET_ACCESS_KEY": "Recognisable+Secret/Access0Key",
    "AWS_SESSION_TOKEN": "RecognisableSessionToken0123456789",
    "EODAG__PEPS__AUTH__CREDENTIALS__USERNAME": "recognisable-eodag-user",
    "EODAG__PEPS__AUTH__CREDENTIALS__PASSWORD": "Recognisable-eodag-password",
    "STAC_API_TOKEN": "RecognisableStacApiToken",
    "MOUNTED_FROM_A_SECRET": "RecognisableValueFromASecret",
    "VAULTED_PLAIN_NAME": "RecognisableValueByPrefix",
}
ENVIRONMENT = {**CREDENTIALS,
               "S1TILING_CLOUD_SECRET_VARIABLES": "MOUNTED_FROM_A_SECRET, Vaulted_*",
               "TMPDIR": "/tmp"}
URL_KEY, URL_SECRET = "AKIAURLKEYRECOGNISABLE", "RecognisableUrlSecretValue"
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", list(CREDENTIALS))
def test_interpolation_never_expands_a_credential_variable(name, tmp_path):
    text = edit_cfg(MINIMAL_CFG, {("Metadata", "NOTE"): f"%({name})s",
                                  ("Paths", "output"): f"/data/%({name.lower()})s"})
    path = tmp_path / "request.cfg"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as caught:
        load_request(path, environ=ENVIRONMENT)
    assert exit_code_for(caught.value) == 72
    assert "credential" in str(caught.value)
    assert CREDENTIALS[name] not in str(caught.value)


def test_other_variables_are_still_expanded(tmp_path):
    path = tmp_path / "request.cfg"
    path.write_text(edit_cfg(MINIMAL_CFG, {("Metadata", "NOTE"): "%(CAMPAIGN)s"}))
    request = load_request(path, environ={**ENVIRONMENT, "CAMPAIGN": "winter"})
    assert request.metadata["NOTE"] == "winter"
    # `Vaulted_*` lists the names that start so, not those that merely contain it.
    path.write_text(edit_cfg(MINIMAL_CFG, {("Metadata", "NOTE"): "%(NOT_VAULTED_X)s"}))
    request = load_request(path, environ={**ENVIRONMENT, "NOT_VAULTED_X": "kept"})
    assert request.metadata["NOTE"] == "kept"


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "s1tiling_cloud.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def environment(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            **ENVIRONMENT, "PYTHONPATH": str(REPO), **extra}


@pytest.mark.parametrize("option", ["output", "s1_images", "dem_dir"])
def test_a_paths_url_with_credentials_is_refused_with_72_and_not_repeated(option, tmp_path):
    text = edit_cfg(MINIMAL_CFG, {("Paths", option): f"s3://{URL_KEY}:{URL_SECRET}@bucket/x",
                                  ("Processing", "mode"): "debug"})
    (tmp_path / "request.cfg").write_text(text)
    done = cli("-v", "process", str(tmp_path / "request.cfg"), env=environment(), cwd=tmp_path)
    assert done.returncode == 72, done.stdout + done.stderr
    everything = done.stdout + done.stderr
    assert "credentials are never read from the configuration file" in " ".join(everything.split())
    assert URL_KEY not in everything and URL_SECRET not in everything
    assert len(everything.splitlines()) < 10  # a message, not a traceback


def test_redaction_masks_values_and_url_user_information():
    secrets = secret_values(ENVIRONMENT)
    assert set(CREDENTIALS.values()) <= secrets
    line = (f"Authorization: Credential={CREDENTIALS['AWS_ACCESS_KEY_ID']}/x token="
            f"{CREDENTIALS['AWS_SESSION_TOKEN']} url=s3://{URL_KEY}:{URL_SECRET}@bucket/k")
    cleaned = redact(line, secrets)
    assert MASK in cleaned and "s3://***@bucket/k" in cleaned
    for value in (*CREDENTIALS.values(), URL_KEY, URL_SECRET):
        assert value not in cleaned


@pytest.mark.s3
def test_no_credential_in_logs_outputs_plan_or_workflow(s3_server, tmp_path):
    bucket = f"secrets-{uuid.uuid4().hex[:10]}"
    s3_client(s3_server).create_bucket(Bucket=bucket)
    products, dem = write_scene(tmp_path / "scene")
    config = write_config(tmp_path / "request.cfg", root=tmp_path, s1_images=products[0].parent,
                          dem_dir=dem)
    text = edit_cfg(config.read_text(), {
        ("Paths", "output"): f"s3://{bucket}/out", ("Storage", "endpoint_url"): s3_server,
        ("Storage", "region"): REGION, ("Storage", "addressing_style"): "path",
        ("Quicklook", "generate"): "True", ("Stac", "publish"): "True",
        ("Processing", "mode"): "debug logging", ("DataSource", "first_date"): "2020-01-08",
        ("DataSource", "last_date"): "2020-01-08"})
    config.write_text(text)
    env = environment()
    runs = [cli("-v", "process", str(config), env=env, cwd=tmp_path),
            cli("-v", "plan", "--json", str(config), env=env, cwd=tmp_path),
            cli("-v", "workflow", "render", str(config), env=env, cwd=tmp_path)]
    assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr[-2000:] for r in runs]
    texts = {f"run {i} {stream}": getattr(r, stream).encode()
             for i, r in enumerate(runs) for stream in ("stdout", "stderr")}
    assert MASK.encode() in texts["run 0 stderr"]  # botocore's debug lines were masked
    client = s3_client(s3_server)
    objects = client.list_objects_v2(Bucket=bucket)["Contents"]
    keys = [o["Key"] for o in objects]
    assert any(k.endswith(".aux.xml") for k in keys) and any(k.endswith(".json") for k in keys)
    for key in keys:
        texts[f"s3://{bucket}/{key}"] = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    for path in tmp_path.rglob("*"):
        if path.is_file() and "scene" not in path.parts:
            texts[str(path)] = path.read_bytes()  # log files, records, the .cfg itself aside
    for where, data in texts.items():
        for name, value in CREDENTIALS.items():
            assert value.encode() not in data, f"{name} in {where}"
