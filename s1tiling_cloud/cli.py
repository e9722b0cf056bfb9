"""The `s1tiling-cloud` command line, and S1Tiling's program names as console scripts.

Every command's errors take one path (`_guarded`): a typed error ends the process with
S1Tiling's exit code for it (`exits.py`) and a one-line message on standard error; any other
exception with 78 and the same one line (its traceback with `--trace-errors` or `--verbose`,
and always in the `stage` command, whose log is the pod's).
The processing commands (`process`, `lia`, `ia`, `gamma-area`, and `S1Processor`, ...) are made
from the scenario registry (`config.scenario`), with the options S1Tiling's programs take.
"""

from __future__ import annotations

import functools
import gc
import inspect
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from . import __version__
from .config.scenario import SCENARIOS, Scenario
from .exceptions import Error, exit_code_for
from .lazy import imports_frozen

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one line however wide: pods and CI logs
log = logging.getLogger("s1tiling_cloud")
#: What a command raises to end as typer means it (exit codes, usage errors): not failures.
_TYPER_EXITS = (typer.Exit, typer.Abort, typer.BadParameter, typer.TyperException)


def _exit_for(error: Exception, *, trace: bool = False, command: str = "command") -> typer.Exit:
    """Print `error` as one line on standard error (secrets masked), and the exit that ends
    the process with S1Tiling's code for it (78 for an untyped error)."""
    from rich.markup import escape  # "[Processing] calibration" is text, not markup

    from .config.secrets import redact, secret_values
    from .runners.unreachable import storage_unreachable

    error = storage_unreachable(error) or error
    if trace:
        log.error("%s failed: %s", command, type(error).__name__, exc_info=error)
    elif not isinstance(error, Error):
        log.debug("unexpected error", exc_info=error)
    message = redact(str(error), secret_values())
    errors.print(f"[bold red]{type(error).__name__}[/]: {escape(message)}", highlight=False)
    return typer.Exit(exit_code_for(error))


def _guarded(command: Callable[..., Any], trace_untyped: bool = False) -> Callable[..., Any]:
    """`command` with the one error path of every command (`_exit_for`); the traceback is
    logged with `--trace-errors`, and for an untyped error when `trace_untyped`."""

    @functools.wraps(command)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except _TYPER_EXITS:
            raise
        except Exception as error:
            trace = bool(kwargs.get("trace_errors")) or (trace_untyped and not isinstance(error, Error))
            what = f"stage {kwargs['name']}" if command.__name__ == "stage" else command.__name__
            raise _exit_for(error, trace=trace, command=what) from error

    return guarded


class _Typer(typer.Typer):
    """A Typer app whose every command goes through `_guarded` (`trace_untyped`: its option)."""

    @property
    def guarded_commands(self) -> dict[str, Callable[..., Any]]:
        """The functions registered with typer, by command function name (as typer runs them)."""
        return self.__dict__.setdefault("_guarded_commands", {})

    def command(self, *args: Any, trace_untyped: bool = False,
                **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().command(*args, **kwargs)

        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            guarded = _guarded(function, trace_untyped)
            register(guarded)
            self.guarded_commands[function.__name__] = guarded
            return function

        return decorator


class _App(_Typer):
    """The `s1tiling-cloud` app, whose `stage NAME --args JSON` (every Argo pod's command, in
    that form) and `PROGRAM CFG` (`process request.cfg`: a program's command with only its
    request, an existing file) run without typer's parsing: typer builds its converters with
    pydantic, a tenth of a second or more of each start. It runs what typer would (the root
    options' defaults, then the command through `_guarded`, its other options at their
    defaults) and ends the same way; a usage error of the stage form, and every other command
    line, goes through typer (which prints usage errors).

    Those forms also spare the process the garbage collector's passes over what it imports
    (`imports_frozen`) and over everything at exit (`gc.freeze`): the process ends, its
    memory goes with it, and the collector's passes over its ~10⁵ objects at exit took
    0.3-0.5 s of an ortho pod."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        direct = None if args or "args" in kwargs else self._direct(sys.argv[1:])
        if direct is not None:
            code: int | None = 0
            try:
                main(version=False, verbose=False)
                direct()
            except typer.BadParameter:
                code = None  # nothing ran yet: typer parses it again and prints the usage error
            except typer.Exit as done:
                code = done.exit_code
            except KeyboardInterrupt:
                code = 130  # typer's code for it
            if code is not None:
                # no collection at exit: atexit handlers run, objects in cycles go unfinalized
                gc.freeze()
                sys.exit(code)
        return super().__call__(*args, **kwargs)

    def _direct(self, argv: list[str]) -> Callable[[], Any] | None:
        """The command of `argv` ready to run, for the forms that skip typer's parsing; None
        for any other command line."""
        if len(argv) == 4 and argv[0] == "stage" and argv[2] == "--args":
            def stage() -> Any:
                _import_stage(argv[1])
                return self.guarded_commands["stage"](name=argv[1], args=argv[3], args_file=None)

            return stage
        if len(argv) == 2 and argv[0] in _PROGRAM_COMMANDS and Path(argv[1]).is_file():
            return functools.partial(self.guarded_commands[argv[0].replace("-", "_")],
                                     config=Path(argv[1]))
        return None


def _import_stage(name: str) -> None:
    """Import the module of stage `name` out of the garbage collector's way (`imports_frozen`:
    0.2 s of an ortho pod); the collector is on again for the stage's work. An unknown stage,
    or one whose import fails, is left to the `stage` command (its error, its exit code)."""
    with imports_frozen():
        try:
            from .stages.registry import STAGES, stage_function

            if name in STAGES:
                stage_function(name)
        except Exception:  # the `stage` command imports it again and reports the error
            pass


#: The programs' commands (`process`, `lia`, ...).
_PROGRAM_COMMANDS = frozenset(s.command for s in SCENARIOS.values())

app = _App(add_completion=False, no_args_is_help=True,
           help="S1Tiling's Sentinel-1 processing, from a laptop to Argo Workflows.")


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
    from .config.secrets import redact_logging

    redact_logging()  # before any logger runs: botocore's and s3fs's debug lines name credentials
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def info(
    product: Annotated[str, typer.Argument(help="SAFE folder, manifest.safe, .zip or s3:// URL")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Summarise a Sentinel-1 product: mission, mode, polarisations, swaths, times, orbit."""
    from .product_summary import summarize

    summary = summarize(product)
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    from rich.table import Table

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


@app.command(trace_untyped=True)  # an unexpected error's traceback belongs in the pod's log
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
    from .stages.registry import STAGES, run_stage, stage_function

    if name not in STAGES:
        raise typer.BadParameter(f"unknown stage {name!r}; one of {', '.join(sorted(STAGES))}",
                                 param_hint="NAME")
    arguments = _stage_arguments(args, args_file)
    try:
        inspect.signature(stage_function(name)).bind(**arguments)
    except TypeError as error:
        raise typer.BadParameter(f"stage {name}: {error}", param_hint="--args") from error
    from .runners.argo_progress import report_progress

    report_progress(0, 1)  # Argo's progress file, in a pod (nothing elsewhere)
    result = run_stage(name, arguments)
    report_progress(1, 1)
    sys.stdout.write(result.to_json() + "\n")



@app.command()
def demo(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the example and its products")],
) -> None:
    """Run the S1Tiling chain on the bundled synthetic example (product, DEM) onto tile 31TCJ."""
    from .demo import run_demo
    from .product_summary import summarize
    from .report import PAGE

    run = run_demo(out_dir)
    summary = summarize(run.product)
    console.print(f"[bold]{summary['product']}[/]: {summary['mode']} {summary['product_type']} "
                  f"{' '.join(summary['polarisations'])}, {summary['start']}, relative orbit "
                  f"{summary['orbit']['relative']} {summary['orbit']['direction']}")
    from rich.table import Table

    table = Table(title=f"S1Tiling chain onto S2 tile 31TCJ ({run.config})", title_justify="left")
    table.add_column("step")
    table.add_column("seconds")
    table.add_column("outputs", overflow="fold")
    root = out_dir.resolve()
    for outcome in run.report.outcomes.values():
        outputs = "\n".join(str(Path(uri).relative_to(root)) if uri.startswith(str(root)) else uri
                            for uri in outcome.outputs)
        status = "" if outcome.status == "ran" else f" ({outcome.status})"
        table.add_row(outcome.label, f"{outcome.seconds:.1f}{status}", outputs)
    console.print(table)
    console.print(str(run.report.situation), highlight=False)
    page = root / "output" / PAGE
    if page.exists():
        console.print(f"Open {page} in a browser to see what was made.", highlight=False)
    if run.report.code:
        raise typer.Exit(run.report.code)



# --------------------------------------------------------------------------- catalog (STAC)

catalog_app = _Typer(no_args_is_help=True, help="The STAC catalog of the products.")
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("rebuild")
def catalog_rebuild(
    out_dir: Annotated[str, typer.Argument(help="Output folder or s3:// prefix of the products")],
    catalog: Annotated[str | None, typer.Option(help="Root catalog.json to write "
                                                "(default: OUT_DIR/catalog.json)")] = None,
    public_url: Annotated[str | None, typer.Option(help="https base replacing s3://bucket "
                                                   "in asset hrefs")] = None,
    api_url: Annotated[str | None, typer.Option(help="STAC API (Transactions) to push to")] = None,
) -> None:
    """Rebuild the static catalog (items, collections, root) from the products in OUT_DIR."""
    from .stac.rebuild import rebuild_catalog

    report = rebuild_catalog(out_dir, catalog, public_url=public_url, api_url=api_url)
    for problem in report.skipped:
        console.print(f"[yellow]skipped[/] {problem}", highlight=False)
    console.print(f"{report.catalog}: {len(report.items)} items in "
                  f"{', '.join(report.collections) or 'no collection'}", highlight=False)


@catalog_app.command("validate")
def catalog_validate(
    catalog: Annotated[str, typer.Argument(help="Root catalog.json (local or s3://)")],
    schemas: Annotated[Path | None, typer.Option(help="Folder of STAC extension schemas "
                                                 "(default: $S1TILING_STAC_SCHEMAS; without "
                                                 "either, extensions are not checked)")] = None,
) -> None:
    """Validate every document of a static catalog offline; exit 1 if any is invalid."""
    from .stac.validate import validate_catalog

    report = validate_catalog(catalog, schema_dir=schemas)
    for problem in report.errors:
        console.print(f"[red]invalid[/] {problem}", highlight=False)
    for extension in report.unchecked_extensions:
        console.print(f"[yellow]not checked[/] {extension} (no schema for it: --schemas)", highlight=False)
    console.print(f"{report.documents} documents ({report.items} items): "
                  + ("valid" if report.ok else f"{len(report.errors)} problems"), highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def report(
    location: Annotated[str, typer.Argument(help="Folder or s3:// prefix holding catalog.json, "
                                            "or the catalog.json itself")],
    output: Annotated[str | None, typer.Option(help="Page to write (default: index.html next "
                                               "to the catalog)")] = None,
) -> None:
    """(Re)build the run report page (index.html) from a STAC catalog, local or s3://."""
    from .report import write_report

    page = write_report(location, page=output)
    console.print(page, highlight=False)


# --------------------------------------------------------------------------- processing (S1Tiling's programs)

_CONFIG = Annotated[Path, typer.Argument(help="The request: an S1Tiling .cfg file", exists=True,
                                         dir_okay=False)]
_DRYRUN = Annotated[bool, typer.Option("--dryrun", help="Print the plan, run nothing.")]
_DEBUG_CACHES = Annotated[bool, typer.Option("--debug-caches", help="Keep the intermediate files.")]
_DEBUG_OTB = Annotated[bool, typer.Option("--debug-otb", help="Run every step in this process, "
                                          "one at a time.")]
_TRACE = Annotated[bool, typer.Option("--trace-errors", help="Log the traceback of errors.")]
_WATCH_RAM = Annotated[bool, typer.Option("--watch-ram", help="Accepted for S1Tiling's sake; no effect.")]
_GRAPHS = Annotated[bool, typer.Option("--graphs", help="Accepted for S1Tiling's sake; no effect.")]
_PER_PAGE = Annotated[int, typer.Option("--searched_items_per_page", help="Products per search page.")]
_RETRIES = Annotated[int, typer.Option("--nb_max_search_retries", help="Retries of a search page.")]
_DL_WAIT = Annotated[int, typer.Option("--eodag_download_wait", help="Minutes between download tries.")]
_DL_TIMEOUT = Annotated[int, typer.Option("--eodag_download_timeout",
                                          help="Minutes before a download is given up.")]
_CACHE_BEFORE_ORTHO = Annotated[bool, typer.Option(
    "--cache-before-ortho", help="Accepted for S1Tiling's sake: only the window a tile needs is "
    "calibrated, in memory.")]
#: The `--scenario` option's help: every scenario's API and program name.
_SCENARIO_HELP = (f"{', '.join(SCENARIOS)} (or {', '.join(s.program for s in SCENARIOS.values())})")
#: The options of the programs that search (`Scenario.search_options`).
_SEARCH_OPTIONS = ("searched_items_per_page", "nb_max_search_retries", "eodag_download_wait",
                   "eodag_download_timeout")


def _program_command(chosen: Scenario) -> Callable[..., None]:
    """The command running `chosen` (`process`, `lia`, ...): S1Tiling's program's options, the
    search ones where it takes them, `--cache-before-ortho` for S1Processor; it prints the
    Situation and exits with its code."""

    def command(config: _CONFIG, dryrun: _DRYRUN = False, debug_caches: _DEBUG_CACHES = False,
                debug_otb: _DEBUG_OTB = False, trace_errors: _TRACE = False,
                watch_ram: _WATCH_RAM = False, graphs: _GRAPHS = False,
                searched_items_per_page: _PER_PAGE = 20, nb_max_search_retries: _RETRIES = 5,
                eodag_download_wait: _DL_WAIT = 2, eodag_download_timeout: _DL_TIMEOUT = 20,
                cache_before_ortho: _CACHE_BEFORE_ORTHO = False) -> None:
        with imports_frozen():  # what the run imports (the planner, the runner)
            from .api import run_scenario

        options: dict[str, Any] = {"dryrun": dryrun, "debug_caches": debug_caches, "debug_otb": debug_otb}
        if chosen.search_options:
            options.update(searched_items_per_page=searched_items_per_page,
                           nb_max_search_retries=nb_max_search_retries, dl_wait=eodag_download_wait,
                           dl_timeout=eodag_download_timeout)
        situation = run_scenario(str(config), chosen, **options)
        console.print(str(situation), highlight=False)
        raise typer.Exit(situation.code)

    every = inspect.signature(command, eval_str=True)
    kept = [p for p in every.parameters.values()
            if (p.name not in _SEARCH_OPTIONS or chosen.search_options)
            and (p.name != "cache_before_ortho" or chosen.makes_products)]
    command.__signature__ = every.replace(parameters=kept)  # what typer reads: the options shown
    command.__name__ = chosen.command.replace("-", "_")
    command.__doc__ = f"{chosen.program}: {chosen.summary} (exit: S1Tiling's codes)."
    return command


for _scenario in SCENARIOS.values():
    app.command(_scenario.command)(_program_command(_scenario))


@app.command("plan")
def plan_command(
    config: _CONFIG,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    scenario: Annotated[str, typer.Option(help=_SCENARIO_HELP)] = "s1_process",
    searched_items_per_page: _PER_PAGE = 20, nb_max_search_retries: _RETRIES = 5,
) -> None:
    """Search the products of a request and print the plan: the stage calls a run makes."""
    from .api import request_of
    from .config.scenario import scenario_name
    from .plan.render import render_json, render_text
    from .plan.request import plan_request

    try:
        name = scenario_name(scenario)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--scenario") from error
    plan = plan_request(request_of(str(config)), name, searched_items_per_page=searched_items_per_page,
                        nb_max_search_retries=nb_max_search_retries)
    sys.stdout.write(render_json(plan) if as_json else render_text(plan))


# --------------------------------------------------------------------------- Argo Workflows

workflow_app = _Typer(no_args_is_help=True,
                      help="Argo Workflows: the workflows a submission makes, and the pods' commands.")
app.add_typer(workflow_app, name="workflow")

_ARGO_SCENARIO = Annotated[str, typer.Option(help=_SCENARIO_HELP)]
_ARGO_SERVER = Annotated[str | None, typer.Option("--server", help="Argo server URL (default: $ARGO_SERVER)")]
_ARGO_NAMESPACE = Annotated[str | None, typer.Option(help="Namespace (default: $ARGO_NAMESPACE, else argo)")]
_ARGO_TOKEN = Annotated[str | None, typer.Option(help="Bearer token (default: $ARGO_TOKEN)",
                                                 show_default=False)]
_ARGO_INSECURE = Annotated[bool, typer.Option("--insecure", help="Do not verify the server's certificate")]
_ARGO_IMAGE = Annotated[str | None, typer.Option(help="Image of every pod (default: the template's)")]
_ARGO_MAX_NODES = Annotated[int | None, typer.Option(help="Most stage calls in one child workflow")]


def _argo_scenario(scenario: str) -> str:
    from .config.scenario import scenario_name

    try:
        return scenario_name(scenario)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--scenario") from error


def _argo_parameters(image: str | None, max_nodes: int | None) -> dict[str, str]:
    values = {"image": image, "max-nodes": None if max_nodes is None else str(max_nodes)}
    return {k: v for k, v in values.items() if v is not None}


@workflow_app.command("render")
def workflow_render(
    config: Annotated[Path, typer.Argument(help="The request (.cfg)", exists=True, dir_okay=False)],
    scenario: _ARGO_SCENARIO = "s1_process",
    namespace: _ARGO_NAMESPACE = None,
    config_map: Annotated[str | None, typer.Option(help="Read the .cfg from this ConfigMap")] = None,
    image: _ARGO_IMAGE = None, max_nodes: _ARGO_MAX_NODES = None,
) -> None:
    """Print the Workflow that `submit CONFIG` would create (YAML)."""
    from .argo import render_yaml, submission
    from .config.parse import load_request

    text = config.read_text()
    load_request(config, text=text)
    workflow = submission(None if config_map else text, _argo_scenario(scenario), namespace=namespace,
                          config_map=config_map, parameters=_argo_parameters(image, max_nodes))
    sys.stdout.write(render_yaml(workflow))


@workflow_app.command("templates")
def workflow_templates(
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write <scenario>.yaml files here "
                                                  "instead of printing them")] = None,
) -> None:
    """Print (or write) the WorkflowTemplates of every scenario, as the chart installs them."""
    from .argo import render_all, render_yaml, workflow_template

    if out_dir:
        for path in render_all(out_dir):
            sys.stdout.write(f"{path}\n")
    else:
        sys.stdout.write(render_yaml(workflow_template(s) for s in SCENARIOS))


@workflow_app.command("children")
def workflow_children(
    plan_json: Annotated[Path, typer.Argument(help="A plan: `s1tiling-cloud plan CONFIG --json` output "
                                              "('-': standard input)")],
    parent: Annotated[str | None, typer.Option(help="Name of the parent workflow")] = None,
    namespace: _ARGO_NAMESPACE = None, image: _ARGO_IMAGE = None, max_nodes: _ARGO_MAX_NODES = None,
) -> None:
    """Print the child Workflows that the planning pod creates for a plan (YAML)."""
    from .argo import ParentRef, plan_to_workflows, render_yaml
    from .plan.model import Plan

    text = sys.stdin.read() if str(plan_json) == "-" else plan_json.read_text()
    workflows = plan_to_workflows(Plan.from_json(text), image=image, namespace=namespace,
                                  max_nodes=max_nodes, parent=ParentRef(parent) if parent else None)
    sys.stdout.write(render_yaml(workflows))


@workflow_app.command("plan-pod", hidden=True, trace_untyped=True)
def workflow_plan_pod(
    scenario: Annotated[str, typer.Option()], workflow_name: Annotated[str, typer.Option()],
    outputs_dir: Annotated[Path, typer.Option()],
    namespace: Annotated[str | None, typer.Option()] = None,
    image: Annotated[str | None, typer.Option()] = None,
    service_account: Annotated[str | None, typer.Option()] = None,
    stage_service_account: Annotated[str | None, typer.Option()] = None,
    max_nodes: Annotated[int | None, typer.Option()] = None,
    parallelism: Annotated[int | None, typer.Option()] = None,
    s3_secret: Annotated[str | None, typer.Option()] = None,
    eodag_secret: Annotated[str | None, typer.Option()] = None,
    semaphore_configmap: Annotated[str | None, typer.Option()] = None,
    semaphore_keys: Annotated[str | None, typer.Option(help="JSON list of the semaphore keys")] = None,
    workflow_uid: Annotated[str | None, typer.Option()] = None,
    config_env: Annotated[str, typer.Option(help="Variable holding the .cfg's text")] = "S1TILING_CFG",
) -> None:
    """(Argo pod) Plan the request, write the child workflows' manifests, output their URIs.
    Any unexpected error exits 78, which the template's retry rule retries."""
    import os

    from .argo import ArgoSettings, plan_pod
    from .config.secrets import EXTRA_VARIABLE

    keys = tuple(json.loads(semaphore_keys)) if semaphore_keys else None
    settings = ArgoSettings().with_(namespace=namespace, image=image, service_account=service_account,
                                    stage_service_account=stage_service_account,
                                    max_nodes=max_nodes, parallelism=parallelism or None,
                                    s3_secret=s3_secret, eodag_secret=eodag_secret,
                                    semaphore_configmap=semaphore_configmap, semaphore_keys=keys,
                                    # the chart's, on this pod: the children's pods get the same
                                    secret_variables=os.environ.get(EXTRA_VARIABLE))
    plan_pod(os.environ.get(config_env, ""), scenario=scenario, workflow_name=workflow_name,
             settings=settings, outputs_dir=outputs_dir, workflow_uid=workflow_uid or None)


@workflow_app.command("launch", hidden=True, trace_untyped=True)
def workflow_launch(
    manifest: Annotated[str, typer.Argument(help="URI of a child workflow's manifest (JSON)")],
    namespace: Annotated[str, typer.Option()],
    storage_options: Annotated[str, typer.Option(help="JSON object")] = "{}",
    owner_name: Annotated[str | None, typer.Option()] = None,
    owner_uid: Annotated[str | None, typer.Option()] = None,
    poll_seconds: Annotated[float, typer.Option()] = 15.0,
    argo_server: Annotated[str | None, typer.Option(help="Argo Server URL (offloaded node "
                                                    "statuses); empty: none")] = None,
) -> None:
    """(Argo pod) Create one child workflow and follow it; exit with its outcome's code.
    Any unexpected error exits 78, which the template's retry rule retries (re-attaching)."""
    from .argo import in_cluster_server, launch

    code = launch(manifest, storage_options=json.loads(storage_options), namespace=namespace,
                  owner_name=owner_name, owner_uid=owner_uid, poll_seconds=poll_seconds,
                  server=in_cluster_server(argo_server, namespace))
    raise typer.Exit(code)


@app.command("submit")
def submit_command(
    config: Annotated[Path, typer.Argument(help="The request (.cfg)", exists=True, dir_okay=False)],
    scenario: _ARGO_SCENARIO = "s1_process",
    server: _ARGO_SERVER = None, namespace: _ARGO_NAMESPACE = None, token: _ARGO_TOKEN = None,
    insecure: _ARGO_INSECURE = False,
    config_map: Annotated[bool, typer.Option("--config-map", help="Send the .cfg in a ConfigMap "
                                             "(kubeconfig credentials) instead of a parameter")] = False,
    image: _ARGO_IMAGE = None, max_nodes: _ARGO_MAX_NODES = None,
) -> None:
    """Submit a request to Argo Workflows: print the workflow's name and its UI link."""
    from .argo import submit

    submitted = submit(config, host=server, namespace=namespace, token=token,
                       scenario=_argo_scenario(scenario), use_config_map=config_map,
                       verify_ssl=False if insecure else None,
                       parameters=_argo_parameters(image, max_nodes))
    sys.stdout.write(f"{submitted.name}\n")
    errors.print(f"submitted {submitted.name} in {submitted.namespace}: {submitted.link}", highlight=False)


@app.command("watch")
def watch_command(
    name: Annotated[str, typer.Argument(help="The workflow's name (what `submit` printed)")],
    server: _ARGO_SERVER = None, namespace: _ARGO_NAMESPACE = None, token: _ARGO_TOKEN = None,
    insecure: _ARGO_INSECURE = False,
    poll_seconds: Annotated[float, typer.Option(help="Seconds between two looks")] = 10.0,
) -> None:
    """Follow a submitted workflow to its end; exit with S1Tiling's code for it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .argo import watch

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=errors, disable=not errors.is_terminal) as bar:
        task = bar.add_task(name, total=None)

        def show(phase: str, done: int, total: int) -> None:
            bar.update(task, description=f"{name} {phase}", completed=done, total=total or None)
            if not errors.is_terminal:
                errors.print(f"{name} {phase} {done}/{total}", highlight=False)

        code = watch(name, host=server, namespace=namespace, token=token,
                     verify_ssl=False if insecure else None, poll_seconds=poll_seconds, on_progress=show)
    errors.print(f"{name}: exit code {code}", highlight=False)
    raise typer.Exit(code)


if __name__ == "__main__":  # pragma: no cover
    app()


# --------------------------------------------------------------------------- S1Tiling's own commands

def _s1tiling_program(chosen: Scenario) -> Callable[[], None]:
    """A console script running one processing command alone, under S1Tiling's program name
    (`S1Processor config.cfg --dryrun`), with the same options; `--version` as S1Tiling's."""
    name = chosen.program
    command = _program_command(chosen)

    def main() -> None:
        if sys.argv[1:2] == ["--version"]:
            console.print(f"{name} (s1tiling-cloud {__version__})")
            raise SystemExit(0)
        program = _Typer(add_completion=False, no_args_is_help=True)
        program.command(name=name, help=command.__doc__)(command)
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        program(prog_name=name)

    main.__name__ = name
    main.__doc__ = f"`{name}`: {command.__doc__}"
    return main


S1Processor = _s1tiling_program(SCENARIOS["s1_process"])
S1LIAMap = _s1tiling_program(SCENARIOS["s1_process_lia"])
S1IAMap = _s1tiling_program(SCENARIOS["s1_process_ia"])
S1GammaAreaMap = _s1tiling_program(SCENARIOS["s1_process_gamma_area"])
