"""A real STAC API for tests: stac-fastapi-pgstac on Debian's PostgreSQL 15 + PostGIS, by PID.

`initdb` a cluster in a temporary folder (as the `postgres` system user when run as root:
PostgreSQL refuses to run as root), start it on 127.0.0.1 with a free port, `pypgstac migrate`,
then run `uvicorn stac_fastapi.pgstac.app:create_app` with the Transactions extension on
loopback. Everything is stopped by PID at teardown and the folder removed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
HOST = "127.0.0.1"
USER = "stac"


def missing_reason() -> str | None:
    """Why the server cannot start here (None: it can)."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL 15 not installed ({PG_BIN}; apt-get install postgresql-15)"
    if not POSTGIS_CONTROL.exists():
        return "PostGIS not installed (apt-get install postgresql-15-postgis-3)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and no `postgres` user to run PostgreSQL as"
    return None


@dataclass
class PgStacApi:
    url: str
    dsn: str
    folder: Path
    uvicorn: subprocess.Popen


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def start() -> PgStacApi:
    folder = Path(tempfile.mkdtemp(prefix="pgstac-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", USER,
                                 "--auth=trust", "-E", "UTF8", "--no-locale"]),
                   check=True, capture_output=True, cwd=folder)
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "pg.log"),
                                 "-o", f"-h {HOST} -p {port} -k {folder}", "-w", "start"]),
                   check=True, capture_output=True, cwd=folder)
    dsn = f"postgresql://{USER}@{HOST}:{port}/postgres"
    try:
        subprocess.run([str(Path(sys.executable).with_name("pypgstac")), "migrate", "--dsn", dsn],
                       check=True, capture_output=True)
        api_port = _free_port()
        env = {**os.environ, "PGUSER": USER, "PGPASSWORD": "unused", "PGHOST": HOST,
               "PGPORT": str(port), "PGDATABASE": "postgres",
               "ENABLE_TRANSACTIONS_EXTENSIONS": "true", "NO_PROXY": HOST, "no_proxy": HOST}
        log = (folder / "uvicorn.log").open("wb")
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("uvicorn")), "--factory",
             "stac_fastapi.pgstac.app:create_app", "--host", HOST, "--port", str(api_port)],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        api = PgStacApi(f"http://{HOST}:{api_port}", dsn, folder, process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(api.url + "/", timeout=1):
                    return api
            except OSError:
                time.sleep(0.2)
        stop(api)
        raise RuntimeError("stac-fastapi-pgstac did not start:\n"
                           + (folder / "uvicorn.log").read_text(errors="replace")[-2000:])
    except BaseException:
        _stop_postgres(folder)
        raise


def _stop_postgres(folder: Path) -> None:
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast",
                                 "-w", "stop"]), capture_output=True, cwd=folder)
    shutil.rmtree(folder, ignore_errors=True)


def stop(api: PgStacApi) -> None:
    if api.uvicorn.poll() is None:
        os.kill(api.uvicorn.pid, signal.SIGTERM)
        try:
            api.uvicorn.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(api.uvicorn.pid, signal.SIGKILL)
            api.uvicorn.wait(5)
    _stop_postgres(api.folder)
