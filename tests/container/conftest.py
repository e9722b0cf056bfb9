"""Fixtures of the container test: a Docker daemon and the image (built once per session)."""

from __future__ import annotations

import pytest

from tests.container.docker import Unavailable, build_image, ensure_daemon, stop_daemon


def pytest_configure(config):
    config.addinivalue_line("markers", "container: builds the image and runs stages in Docker "
                                       "containers (needs dockerd; started when root)")


@pytest.fixture(scope="session")
def docker_cli():
    """The docker CLI, once a daemon answers; skips with the reason when none can run here. A
    daemon the session started is stopped when it ends (none is left running after CI)."""
    found = ensure_daemon()
    if isinstance(found, Unavailable):
        pytest.skip(found.reason)
    yield found.cli
    if found.started is not None:
        stop_daemon(found.started)


@pytest.fixture(scope="session")
def image(docker_cli) -> str:
    """The s1tiling-cloud image's tag (docker/build.sh: reused when built from the same inputs)."""
    return build_image(docker_cli)
