"""Deferred imports (`s1tiling_cloud.lazy`): what is deferred still works when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

import s1tiling_cloud.config as config
import s1tiling_cloud.geo as geo
from s1tiling_cloud.lazy import defer_module


def test_package_exports_load_on_first_use():
    from s1tiling_cloud.config.model import Request
    from s1tiling_cloud.geo.grid import Grid

    assert config.Request is Request and geo.Grid is Grid
    assert {"Request", "load_request", "SCENARIOS"} <= set(dir(config))
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        config.Nothing  # noqa: B018


def test_a_deferred_module_runs_on_first_attribute_access():
    code = (
        "import sys\n"
        "from s1tiling_cloud.lazy import defer_module\n"
        "defer_module('wave')\n"
        "import wave\n"
        "assert 'wave' in sys.modules and not hasattr(type(wave), 'open') and 'open' not in vars(wave)\n"
        "assert callable(wave.open) and sys.modules['wave'] is not wave\n"  # the real one now
        "from wave import Wave_read\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "ok"


def test_boto3_is_deferred_for_rasterio_and_works_when_used():
    code = (
        "import sys\n"
        "import s1tiling_cloud.stages.base\n"
        "assert 'boto3.session' not in sys.modules\n"  # rasterio imported, boto3 not run
        "import rasterio.session\n"
        "assert rasterio.session.boto3 is not None\n"
        "assert rasterio.session.boto3.Session.__name__ == 'Session'\n"
        "assert 'boto3.session' in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "ok"


def test_defer_module_leaves_missing_and_imported_modules_alone():
    before = sys.modules["json"]
    defer_module("json")
    assert sys.modules["json"] is before
    defer_module("no_such_module_anywhere")
    assert "no_such_module_anywhere" not in sys.modules


def test_the_placeholder_follows_the_real_module_after_loading():
    """Submodules imported later and assignments reach the real module, as a plain import."""
    code = (
        "import sys\n"
        "import s1tiling_cloud\n"
        "import boto3\n"
        "boto3.setup_default_session(region_name='eu-west-3')\n"
        "assert boto3.DEFAULT_SESSION is sys.modules['boto3'].DEFAULT_SESSION is not None\n"
        "import boto3.s3.transfer\n"
        "assert boto3.s3.transfer.TransferConfig is sys.modules['boto3.s3.transfer'].TransferConfig\n"
        "boto3.marker = 1\n"
        "assert sys.modules['boto3'].marker == 1\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_numba_blas_check_is_deferred_and_blas_works_when_called():
    """numba's BLAS check at its first kernel no longer runs scipy.linalg; a kernel that calls
    BLAS (np.dot of matrices) still compiles and computes, and scipy.linalg imports as usual."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import s1tiling_cloud\n"
        "import numba\n"
        "@numba.njit\n"
        "def add(a):\n"
        "    return a + 1.0\n"
        "add(np.ones(3))\n"
        "assert 'scipy.linalg' not in sys.modules\n"
        "@numba.njit\n"
        "def dot(a, b):\n"
        "    return np.dot(a, b)\n"
        "a = np.arange(6.0).reshape(2, 3)\n"
        "assert np.array_equal(dot(a, a.T), a @ a.T)\n"
        "import scipy.linalg\n"
        "from scipy.linalg import cython_blas\n"
        "assert '__pyx_capi__' in dir(cython_blas)\n"
        "assert np.allclose(scipy.linalg.inv(np.eye(2) * 2), np.eye(2) / 2)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr



def test_defer_module_finds_a_submodule_without_running_its_parents():
    code = (
        "import sys\n"
        "from s1tiling_cloud.lazy import defer_module\n"
        "defer_module('scipy.linalg.cython_blas')\n"
        "assert 'scipy' not in sys.modules and 'scipy.linalg.cython_blas' in sys.modules\n"
        "import scipy.linalg.cython_blas\n"
        "assert 'scipy.linalg' not in sys.modules\n"
        "import scipy.linalg\n"  # its extension modules load the real cython_blas
        "assert scipy.linalg.cython_blas is sys.modules['scipy.linalg.cython_blas']\n"
        "assert '__pyx_capi__' in vars(scipy.linalg.cython_blas)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_yaml_is_deferred_for_numba_and_works_when_used():
    code = (
        "import sys\n"
        "import s1tiling_cloud\n"
        "import numba\n"
        "assert 'yaml.loader' not in sys.modules\n"  # numba imported, yaml not run
        "import yaml\n"
        "assert yaml.safe_load('a: [1, 2]') == {'a': [1, 2]}\n"
        "class Dumper(yaml.SafeDumper):\n"
        "    pass\n"
        "assert yaml.dump({'x': 1}, Dumper=Dumper) == 'x: 1\\n'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
