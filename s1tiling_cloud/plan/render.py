"""A plan for people (a text tree: `s1tiling-cloud plan`, `--dryrun`) and for programs (JSON)."""

from __future__ import annotations

from collections import Counter

from .model import Plan


def _tile_of(node_id: str) -> str:
    """The tile a node belongs to (its id's second part), or "" for per-product nodes
    (ingest, and eof: `eof/<platform>/<day>`)."""
    parts = node_id.split("/")
    if parts[0] in ("ingest", "eof"):
        return ""
    return parts[1] if len(parts) > 2 or parts[0] == "heights" else ""


def summary(plan: Plan) -> str:
    """One line: the scenario and how many nodes of each stage."""
    counts = Counter(node.stage for node in plan.nodes)
    stages = ", ".join(f"{n} {stage}" for stage, n in counts.items())
    return f"Plan {plan.scenario}: {len(plan.nodes)} nodes ({stages or 'nothing to do'})"


def search_line(plan: Plan) -> str:
    search = plan.search or {}
    return (f"Search: {search.get('found', 0)} products found, {search.get('kept', 0)} kept, "
            f"{len(search.get('discarded', []))} discarded, "
            f"{search.get('search_failures', 0)} search failures")


def render_text(plan: Plan, *, outputs: bool = True) -> str:
    """The plan as an indented tree: downloads, then per tile its nodes in execution order,
    each with what it waits for and (with `outputs`) what it writes."""
    lines = [summary(plan), search_line(plan)]
    groups: dict[str, list] = {}
    for node in plan.topological():
        groups.setdefault(_tile_of(node.id), []).append(node)
    for tile in sorted(groups):
        lines.append(f"tile {tile}" if tile else "products")
        for node in groups[tile]:
            after = f"  after {', '.join(node.depends)}" if node.depends else ""
            mark = " (intermediate)" if node.intermediate else ""
            lines.append(f"  {node.label or node.id}  [{node.id}]{mark}{after}")
            if outputs:
                lines.extend(f"      -> {uri}" for uri in node.outputs)
    return "\n".join(lines) + "\n"


def render_json(plan: Plan) -> str:
    """The plan as JSON (`Plan.from_json` reads it back)."""
    return plan.to_json(indent=2) + "\n"
