"""The embedded runner: a plan's nodes in a process pool on this machine (local disk or S3).

Each node runs as soon as the nodes it depends on are done (no per-tile barrier), in plan
order among the ready ones, at most `processes` at a time, in worker processes started by
`forkserver` (numba's and GDAL's threads do not survive `fork`). A failed node marks
everything that depends on it as not run, and is counted as S1Tiling counts it; the other
products are still made. Finished nodes are recorded (`records`), so a re-run, or a run after a
kill, does only what is left. Intermediates (tmp) are removed once every node reading them has
succeeded, unless `keep_intermediates` (S1Tiling's `--debug-caches`). What is left to do is
decided by `remaining` (every output the plan promises must exist).
"""

from __future__ import annotations

import heapq
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..plan.model import Node, Plan
from ..stages.registry import stage
from ..store import Store, is_remote, low_on_space, remove_stale_temporaries
from .interrupt import Interrupted, interruptible, stop_workers
from .progress import Progress, progress_for
from .records import RunRecords
from .remaining import Existing, work_left
from .report import (
    DONE,
    EMPTY,
    FAILED,
    NOT_RUN,
    PRUNED,
    RAN,
    REUSED,
    SUCCEEDED,
    NodeOutcome,
    RunReport,
    situation_of,
)
from .run_page import write_run_page
from .worker import COMPUTATION, execute, start_worker

log = logging.getLogger(__name__)

#: Attempts of a node whose worker process died (killed, out of memory), as S1Tiling retries
#: a Dask `KilledWorker` once: a pool breaks for every node running in it, not only the guilty.
WORKER_DEATH_ATTEMPTS = 2


class InlineExecutor(Executor):
    """Runs each task at submission, in this process (`processes=0`: debugging, S1Tiling's
    `--debug-otb`)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # handed to the caller through the future (not `Interrupted`)
            future.set_exception(error)
        return future


#: What the forkserver imports before it forks the workers: the main module (as
#: multiprocessing does by default), then the stages (`preload`).
_PRELOAD = ["__main__", "s1tiling_cloud.runners.preload"]


def _context() -> multiprocessing.context.BaseContext:
    """The workers' start method: forked by a forkserver that has imported the stages (Linux),
    else spawned."""
    if not sys.platform.startswith("linux"):
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def start_workers() -> None:
    """Start the workers' forkserver now, so that its imports (`preload`) overlap what this
    process does before its first node (reading the request, planning).

    The workers get this process's environment as it is now (the forkserver's): set it first.
    Nothing happens where workers are spawned (not Linux), or when the forkserver already runs.
    """
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _pool(processes: int) -> Executor:
    if processes <= 0:
        return InlineExecutor()
    return ProcessPoolExecutor(max_workers=processes, mp_context=_context(),
                               initializer=start_worker, initargs=(os.getpid(),))


def run_plan(plan: Plan, *, processes: int, progress: bool | None = None,
             keep_intermediates: bool = False) -> RunReport:
    """Run `plan` with `processes` worker processes (0: in this process) and report.

    `progress`: a rich bar (True), log lines (False), or a bar only on a terminal (None).
    """
    started = time.perf_counter()
    run = _Run(plan, keep_intermediates)
    interrupted: Interrupted | None = None
    with interruptible():
        try:
            run.prune()
            with progress_for(len(run.pending), progress) as bar:
                run.execute(processes, bar)
            run.sweep()
        except Interrupted as signal_:
            interrupted = signal_
            log.warning("%s received: workers stopped; a re-run does what is left", signal_.name)
            run.interrupted(signal_)
        finally:
            if run.records is not None:
                run.records.close()
        situation = situation_of(run.outcomes.values(),
                                 int((plan.search or {}).get("search_failures", 0)),
                                 interrupted=interrupted.signum if interrupted else None,
                                 tmp=(plan.request.get("paths") or {}).get("tmp"))
        report = RunReport(plan, run.outcomes, situation, round(time.perf_counter() - started, 3),
                           run.removed)
        for line in report.lines():
            log.info("%s", line)
        if interrupted is None:
            write_run_page(plan, report)  # the run's page next to its outputs (index.html)
    return report


class _Run:
    """The state of one run: node outcomes, what is left, what runs."""

    def __init__(self, plan: Plan, keep_intermediates: bool) -> None:
        self.plan = plan
        self.nodes = {node.id: node for node in plan.nodes}
        self.dependents: dict[str, list[str]] = {node.id: [] for node in plan.nodes}
        for node in plan.nodes:
            for dep in node.depends:
                self.dependents[dep].append(node.id)
        self.store = Store(plan.storage_options or None)
        self.records = RunRecords.for_plan(plan, self.store)
        self.exists = Existing(self.store)
        self.keep = keep_intermediates
        self.outcomes: dict[str, NodeOutcome] = {}
        #: Nodes not yet started nor settled, in plan order (a dict: ordered, O(1) removal).
        self.pending: dict[str, None] = {}
        self.order = {node.id: index for index, node in enumerate(plan.nodes)}
        #: Per pending node, how many of its dependencies have not succeeded yet; the ready
        #: ones wait in heaps by plan order (serial stages apart, started one at a time).
        self.waiting: dict[str, int] = {}
        self.ready_nodes: list[tuple[int, str]] = []
        self.ready_serial: list[tuple[int, str]] = []
        self.deaths: dict[str, int] = {}
        self.removed: list[str] = []
        self.running: list[str] = []  # the nodes running when the run was interrupted

    def outcome(self, node: Node, status: str, **values: Any) -> NodeOutcome:
        found = NodeOutcome(node.id, node.stage, node.label or node.id, status, **values)
        self.outcomes[node.id] = found
        return found

    # ---- what is left to do ------------------------------------------------------------

    def prune(self) -> None:
        """What is left (`remaining.work_left`, with this runner's records): nodes with work
        are pending, in plan order; complete nodes that are read or promised are DONE; the
        others are PRUNED."""
        self.remove_leftovers()
        exists = self.exists
        recorded = None
        if self.records is not None:
            records = self.records

            def recorded(node: Node) -> list[str] | bool | None:
                return records.state(node, exists)
        left = work_left(self.plan, exists, recorded)
        self.pending = dict.fromkeys(left.pending)
        for node in self.plan.nodes:
            if node.id in left.done:
                self.outcome(node, DONE, outputs=left.done[node.id])
            elif node.id not in self.pending:
                self.outcome(node, PRUNED)
        for node_id in self.pending:
            self.waiting[node_id] = sum(1 for d in self.nodes[node_id].depends if d in self.pending)
            if not self.waiting[node_id]:
                self.make_ready(node_id)

    def remove_leftovers(self) -> None:
        """The temporary files and scratch folders a killed run left (`store`): never seen
        under a final name, removed here so that they do not pile up."""
        folders = {os.path.dirname(uri) for node in self.plan.nodes for uri in node.outputs
                   if not is_remote(uri)}
        if self.records is not None:  # its folders: none when the records are remote
            folders.update(self.records.folders())
        for path in remove_stale_temporaries(sorted(folders) + [tempfile.gettempdir()]):
            log.info("removed %s, left by a killed run", path)

    def make_ready(self, node_id: str) -> None:
        queue = self.ready_serial if stage(self.nodes[node_id].stage).serial else self.ready_nodes
        heapq.heappush(queue, (self.order[node_id], node_id))

    def succeeded(self, node_id: str) -> None:
        """`node_id` succeeded: its dependents that waited only for it are ready."""
        for dependent in self.dependents[node_id]:
            if dependent in self.pending:
                self.waiting[dependent] -= 1
                if self.waiting[dependent] == 0:
                    self.make_ready(dependent)

    def arguments(self, node: Node) -> dict[str, Any] | None:
        """The node's arguments without the inputs its dependencies did not produce (an ortho
        whose tile misses the product's valid area writes nothing); None: nothing left to use."""
        missing: set[str] = set()
        for dep in node.depends:
            outcome = self.outcomes[dep]
            planned = set(self.nodes[dep].outputs)
            if outcome.status == EMPTY:
                missing |= planned
            elif outcome.status in (RAN, REUSED, DONE):
                missing |= planned - set(outcome.outputs)
        if not missing:
            return node.args
        args = dict(node.args)
        partial = stage(node.stage).partial_inputs
        for key in partial:
            value = args.get(key)
            if isinstance(value, list):
                args[key] = [v for v in value if v not in missing]
            elif isinstance(value, Mapping):
                args[key] = {k: v for k, v in value.items() if v not in missing}
        if partial and not args[partial[0]]:
            return None
        if _mentions(args, missing):
            return None
        return args

    # ---- running -----------------------------------------------------------------------

    def execute(self, processes: int, bar: Progress) -> None:
        # A worker's next node waits in the pool's queue (two per worker are handed over): a
        # short stage's worker then never idles while this process collects and launches.
        capacity = max(1, 2 * processes)
        pool = _pool(processes)
        running: dict[Future, tuple[str, float]] = {}
        try:
            while self.pending or running:
                try:
                    self.launch(pool, running, capacity, bar)
                except BrokenProcessPool:  # a worker died between two nodes: a new pool
                    log.warning("a worker process died between two nodes; starting new ones")
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = _pool(processes)
                    continue
                if not running:
                    if self.pending:  # only nodes waiting on nodes that cannot run
                        for node_id in list(self.pending):
                            self.not_run(node_id, None, bar)
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                broken = False
                for future in finished:
                    node_id, clock = running.pop(future)
                    broken |= self.collect(node_id, future, time.perf_counter() - clock, bar)
                if broken:  # a worker died (killed, out of memory): the pool is unusable
                    for future, (node_id, clock) in list(running.items()):
                        self.collect(node_id, future, time.perf_counter() - clock, bar)
                    running.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = _pool(processes)
        except BaseException:
            stop_workers(pool)
            self.running = [node_id for node_id, _ in running.values()]
            raise
        pool.shutdown(wait=True)

    def interrupted(self, signal_: Interrupted) -> None:
        """The nodes that were running or pending when `signal_` came: not run."""
        error = {"type": "Interrupted", "message": f"the run received {signal_.name}",
                 "category": COMPUTATION}
        for node_id in [*self.running, *self.pending]:
            if self.outcomes.get(node_id) is None:
                self.outcome(self.nodes[node_id], NOT_RUN, error=error)
        self.pending.clear()

    def next_ready(self, running: dict[Future, tuple[str, float]]) -> str | None:
        """The first ready node in plan order (a serial stage's only if none of it runs)."""
        serial_free = self.ready_serial and not any(
            stage(self.nodes[n].stage).serial for n, _ in running.values())
        queues = [q for q in (self.ready_nodes, self.ready_serial if serial_free else None) if q]
        while queues:
            queue = min(queues, key=lambda q: q[0])
            _, node_id = heapq.heappop(queue)
            if node_id in self.pending:
                return node_id
            queues = [q for q in queues if q]
        return None

    def launch(self, pool: Executor, running: dict[Future, tuple[str, float]], capacity: int,
               bar: Progress) -> None:
        while len(running) < capacity:
            node_id = self.next_ready(running)
            if node_id is None:
                return
            node = self.nodes[node_id]
            args = self.arguments(node)
            if args is None:
                del self.pending[node_id]
                self.outcome(node, EMPTY)
                bar.finished(node.label or node.id, EMPTY, 0.0)
                self.release(node)
                self.succeeded(node_id)
                continue
            try:
                future = pool.submit(execute, node.stage, args, self.plan.storage_options)
            except BrokenProcessPool:  # the node stays pending, for the next pool
                self.make_ready(node_id)
                raise
            del self.pending[node_id]
            bar.started(node.label or node.id)
            running[future] = (node_id, time.perf_counter())

    def collect(self, node_id: str, future: Future, seconds: float, bar: Progress) -> bool:
        """Record a finished node; True when its worker died."""
        node = self.nodes[node_id]
        broken = False
        try:
            answer = future.result()
        except BrokenProcessPool as error:
            broken = True
            self.deaths[node_id] = self.deaths.get(node_id, 0) + 1
            if self.deaths[node_id] < WORKER_DEATH_ATTEMPTS:  # again, in the next pool
                log.warning("%s: its worker died; trying it again", node.label or node_id)
                self.pending[node_id] = None
                self.make_ready(node_id)
                return broken
            answer = {"ok": False, "error": {"type": "WorkerDied", "message": str(error) or
                                             "a worker process died", "category": COMPUTATION}}
        if answer["ok"]:
            result = answer["result"]
            status = REUSED if result.get("skipped") else (
                EMPTY if node.outputs and not result.get("outputs") else RAN)
            outcome = self.outcome(node, status, outputs=list(result.get("outputs", [])),
                                   seconds=round(seconds, 3))
            if self.records is not None:
                self.records.save(node, outcome.outputs)
            self.release(node)
            self.succeeded(node_id)
        else:
            writing = node.outputs[0] if node.outputs else None
            error = dict(answer["error"])
            if writing and not error.get("disk_full") and low_on_space(writing):
                error["disk_full"] = True  # GDAL's words do not always say so
            self.outcome(node, FAILED, seconds=round(seconds, 3), error=error, writing=writing)
            log.error("%s failed: %s: %s", node.label or node.id, answer["error"]["type"],
                      answer["error"]["message"])
            for dependent in sorted(self.downstream(node_id)):
                self.not_run(dependent, node_id, bar)
        bar.finished(node.label or node.id, self.outcomes[node_id].status, seconds)
        return broken

    def downstream(self, node_id: str) -> set[str]:
        """Every node that depends, directly or not, on `node_id`."""
        found: set[str] = set()
        frontier = [node_id]
        while frontier:
            for dependent in self.dependents[frontier.pop()]:
                if dependent not in found:
                    found.add(dependent)
                    frontier.append(dependent)
        return found

    def not_run(self, node_id: str, cause: str | None, bar: Progress) -> None:
        """`node_id` cannot run (`cause` failed): it is counted, and the progress moves on."""
        if node_id in self.pending:
            del self.pending[node_id]
            bar.finished(self.nodes[node_id].label or node_id, NOT_RUN, 0.0)
        if node_id not in self.outcomes:
            self.outcome(self.nodes[node_id], NOT_RUN, cause=cause)

    # ---- intermediates -----------------------------------------------------------------

    def release(self, node: Node) -> None:
        """After `node` succeeded: remove its dependencies' intermediates that nothing else
        still needs."""
        for dep in node.depends:
            self.remove_if_consumed(self.nodes[dep])

    def remove_if_consumed(self, node: Node) -> None:
        outcome = self.outcomes.get(node.id)
        if self.keep or not node.intermediate or outcome is None or outcome.status not in (
                RAN, REUSED, DONE, PRUNED):
            return
        readers = self.dependents[node.id]
        if not readers or not all(self.outcomes.get(r) is not None and self.outcomes[r].status in SUCCEEDED
                                  for r in readers):
            return
        # PRUNED: not needed, but maybe still there (kept by an earlier `--debug-caches` run)
        outputs = outcome.outputs if outcome.status != PRUNED else [
            uri for uri in node.outputs if self.exists(uri)]
        for uri in outputs:
            if uri not in self.removed:
                self.store.remove(uri)
                self.removed.append(uri)

    def sweep(self) -> None:
        """Intermediates done by an earlier run whose readers are now all done."""
        for node in self.plan.nodes:
            self.remove_if_consumed(node)


def _mentions(value: Any, uris: Iterable[str]) -> bool:
    uris = set(uris)
    if isinstance(value, str):
        return value in uris
    if isinstance(value, Mapping):
        return any(_mentions(v, uris) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_mentions(v, uris) for v in value)
    return False
