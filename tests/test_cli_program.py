"""`s1tiling-cloud PROGRAM CFG` (a program's command with only its request) runs without
typer's parsing (`cli._App`), and ends as the parsed command line does: same exit code, same
message. Other command lines of a program (an option, a missing request) go through typer.

Each run is a fresh interpreter, as a user's command; it prints at exit whether typer's
pydantic converters (`typer._adapters`, what the parsing imports) were loaded.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.plan.requests import write_config
from tests.plan.test_nothing_found import dem  # noqa: F401 - the fixture

PROBE = """
import atexit, sys
atexit.register(lambda: print("PARSED", "typer._adapters" in sys.modules))
sys.argv = ["s1tiling-cloud", *sys.argv[1:]]
from s1tiling_cloud.cli import app
app(prog_name="s1tiling-cloud")
"""


def run(*argv: str) -> tuple[int, str, bool]:
    """Exit code, standard error and whether typer parsed the command line."""
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                          timeout=300, check=False)
    parsed = [line for line in done.stdout.splitlines() if line.startswith("PARSED ")]
    assert parsed, done.stdout + done.stderr
    return done.returncode, done.stderr, parsed[-1] == "PARSED True"


@pytest.mark.parametrize("program", ["process", "lia"])
def test_a_program_with_only_its_request_ends_as_the_parsed_command_line(program, tmp_path,
                                                                         dem):  # noqa: F811
    empty = tmp_path / "empty"
    empty.mkdir()
    config = write_config(tmp_path / "empty.cfg", root=tmp_path, s1_images=empty, dem_dir=dem)
    code, stderr, parsed = run(program, str(config))
    assert not parsed
    code_parsed, stderr_parsed, parsed = run(program, str(config), "--trace-errors")
    assert parsed
    assert code == code_parsed != 0
    assert last_line(stderr) == last_line(stderr_parsed)


def last_line(stderr: str) -> str:
    """The last line of standard error, without a log line's time."""
    return re.sub(r"^\d{4}-\d\d-\d\d [\d:,]+ ", "", stderr.strip().splitlines()[-1])


def test_a_missing_request_is_typers_usage_error(tmp_path):
    code, stderr, parsed = run("process", str(tmp_path / "missing.cfg"))
    assert parsed and code == 2 and "does not exist" in stderr
