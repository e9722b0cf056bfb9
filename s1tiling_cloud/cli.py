"""The `s1tiling-cloud` command line.

Errors end the process with S1Tiling's exit codes (`exits.py`), and a one-line message.
"""

from __future__ import annotations

import inspect
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .exceptions import Error, exit_code_for

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="S1Tiling's Sentinel-1 processing, from a laptop to Argo Workflows.")
console = Console()
log = logging.getLogger("s1tiling_cloud")


def _version(value: bool) -> None:
    if value:
        console.print(f"s1tiling-cloud {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _fail(error: BaseException) -> typer.Exit:
    console.print(f"[bold red]{type(error).__name__}[/]: {error}", highlight=False)
    return typer.Exit(exit_code_for(error))


@app.command()
def info(
    product: Annotated[str, typer.Argument(help="SAFE folder, manifest.safe, .zip or s3:// URL")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Summarise a Sentinel-1 product: mission, mode, polarisations, swaths, times, orbit."""
    from .product_summary import summarize

    try:
        summary = summarize(product)
    except (Error, FileNotFoundError) as error:
        raise _fail(error) from error
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    table = Table(title=summary["product"], show_header=False, title_justify="left")
    orbit = summary["orbit"]
    rows = [
        ("mission", summary["mission"]),
        ("mode / type", f"{summary['mode']} {summary['product_type']}"),
        ("polarisations", " ".join(summary["polarisations"])),
        ("start", summary["start"]),
        ("stop", summary["stop"]),
        ("orbit", f"absolute {orbit['absolute']}, relative {orbit['relative']}, "
                  f"{orbit['direction']} (ANX {orbit['ascending_node']})"),
        ("IPF version", summary["ipf_version"]),
        ("footprint", summary["footprint"]),
    ]
    for swath in summary["swaths"]:
        bursts = f", {swath['bursts']} bursts" if swath["bursts"] else ""
        rows.append((f"swath {swath['swath']}",
                     f"{swath['lines']} lines × {swath['samples']} samples{bursts}; "
                     f"annotated {' '.join(swath['polarisations'])}; "
                     f"measurements {' '.join(swath['measurements']) or 'none'}"))
    rows.append(("groups", f"{summary['groups']} (xr.open_dataset(..., group=...))"))
    for key, value in rows:
        table.add_row(key, str(value))
    console.print(table)


@app.command()
def synthesize(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the product into")],
    lines: int = 600,
    samples: int = 800,
    lat: float = 43.6,
    lon: float = 1.44,
    as_zip: Annotated[bool, typer.Option("--zip/--safe", help="Write a .zip or a folder")] = True,
) -> None:
    """Write a synthetic, physically consistent Sentinel-1 IW GRD product (for demos and tests)."""
    from .testing import SyntheticGRD, write_grd

    out_dir.mkdir(parents=True, exist_ok=True)
    path = write_grd(SyntheticGRD(center_lat=lat, center_lon=lon, lines=lines, samples=samples),
                     out_dir, zip=as_zip)
    sys.stdout.write(f"{path}\n")


def _stage_arguments(args: str | None, args_file: Path | None) -> dict:
    if (args is None) == (args_file is None):
        raise typer.BadParameter("give the stage's arguments with exactly one of --args, --args-file")
    try:
        text = args if args is not None else (
            sys.stdin.read() if str(args_file) == "-" else args_file.read_text())
        arguments = json.loads(text)
    except (OSError, json.JSONDecodeError) as error:
        raise typer.BadParameter(f"cannot read the stage's arguments: {error}") from error
    if not isinstance(arguments, dict):
        raise typer.BadParameter("the stage's arguments must be a JSON object (keyword arguments)")
    return arguments


@app.command()
def stage(
    name: Annotated[str, typer.Argument(help="Stage name (ortho, concatenate, mask, ...)")],
    args: Annotated[str | None, typer.Option("--args", help="JSON object: the stage's keyword "
                                             "arguments (URIs and params)")] = None,
    args_file: Annotated[Path | None, typer.Option("--args-file", help="File holding that JSON "
                                                   "object ('-': standard input)")] = None,
) -> None:
    """Run one stage, as an Argo pod does: print its result as one JSON line on stdout.

    Exit codes: S1Tiling's for a typed error (72: configuration), 78 otherwise, 2: bad arguments.
    """
    from .stages.base import STAGES, run_stage, stage_function

    if name not in STAGES:
        raise typer.BadParameter(f"unknown stage {name!r}; one of {', '.join(sorted(STAGES))}",
                                 param_hint="NAME")
    arguments = _stage_arguments(args, args_file)
    try:
        inspect.signature(stage_function(name)).bind(**arguments)
    except TypeError as error:
        raise typer.BadParameter(f"stage {name}: {error}", param_hint="--args") from error
    errors = Console(stderr=True)
    try:
        result = run_stage(name, arguments)
    except Error as error:
        errors.print(f"[bold red]{type(error).__name__}[/]: {error}", highlight=False)
        raise typer.Exit(exit_code_for(error)) from error
    except Exception as error:  # the pod must still end with S1Tiling's code for it (78)
        log.exception("stage %s failed", name)
        raise typer.Exit(exit_code_for(error)) from error
    sys.stdout.write(result.to_json() + "\n")



@app.command()
def demo(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the example and its products")],
) -> None:
    """Run the S1Tiling chain on the bundled synthetic example (product, DEM) onto tile 31TCJ."""
    from .demo import run_demo
    from .product_summary import summarize

    try:
        run = run_demo(out_dir)
    except Error as error:
        raise _fail(error) from error
    summary = summarize(run.product)
    console.print(f"[bold]{summary['product']}[/]: {summary['mode']} {summary['product_type']} "
                  f"{' '.join(summary['polarisations'])}, {summary['start']}, relative orbit "
                  f"{summary['orbit']['relative']} {summary['orbit']['direction']}")
    table = Table(title="S1Tiling chain onto S2 tile 31TCJ", title_justify="left")
    table.add_column("stage")
    table.add_column("seconds")
    table.add_column("outputs", overflow="fold")
    for result in run.results:
        outputs = "\n".join(str(Path(uri).relative_to(out_dir.resolve())) for uri in result.outputs)
        table.add_row(result.stage, f"{result.seconds:.1f}" + (" (reused)" if result.skipped else ""),
                      outputs)
    console.print(table)

if __name__ == "__main__":  # pragma: no cover
    app()
