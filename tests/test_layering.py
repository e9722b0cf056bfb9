"""Imports point one way: a module imports only modules of its own layer or of a lower one, and
no two parts of the package import each other. The layers are those of docs/architecture.md."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import s1tiling_cloud

PACKAGE = Path(s1tiling_cloud.__file__).resolve().parent

#: Layer of each part of the package (a subpackage, or a module at the top), lowest first.
LAYERS: dict[str, int] = {
    "__init__": 0, "lazy": 0, "exceptions": 0, "exits": 0, "safe": 0, "outputs": 0,
    "tiff_ifds": 0, "cog_tiles": 0, "cog_overviews": 0, "cog_overview_kernels": 0, "georeferencing": 0,
    "store": 1,
    "geo": 2, "engine": 2,
    "config": 3, "stac": 3, "testing": 3, "product_summary": 3, "report": 3,
    "search": 4,
    "stages": 5,
    "plan": 6,
    "runners": 7,
    "argo": 8,
    "api": 9, "demo": 9, "cli": 9, "__main__": 9,
}

#: Imports that go up or both ways and are not fixed yet: (importer part, imported part) -> why.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("exits", "exceptions"): "S1Tiling's scripts call exits.translate_exception_into_exit_code, "
                             "which defers to exceptions.exit_code_for at call time",
}


def _part(module: str) -> str:
    """`s1tiling_cloud.geo.dem` -> "geo"; a name of the package's `__init__` -> "__init__"."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    name = parts[1]
    return name if (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file() else "__init__"


def _imports(path: Path) -> set[str]:
    """Every `s1tiling_cloud` module that `path` imports, at the top or inside a function."""
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    module_parts = list(relative.parts)
    package = module_parts if module_parts[-1] == "__init__" else module_parts[:-1]
    if package[-1] == "__init__":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module:
                found.add(target)
            else:
                found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "s1tiling_cloud"}


def _edges() -> dict[tuple[str, str], list[str]]:
    """(importer part, imported part) -> the modules that import so."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for target in _imports(path):
            pair = (_part(module), _part(target))
            if pair[0] != pair[1]:
                edges[pair].append(module)
    return edges


def test_every_part_has_a_layer():
    parts = {_part(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts))
             for p in PACKAGE.rglob("*.py")}
    assert parts - set(LAYERS) == set(), "place the new part in LAYERS and docs/architecture.md"


def test_no_import_goes_up():
    upward = [f"{a} (layer {LAYERS[a]}) imports {b} (layer {LAYERS[b]}) in {', '.join(sorted(set(by)))}"
              for (a, b), by in sorted(_edges().items())
              if LAYERS.get(a, 99) < LAYERS.get(b, 99) and (a, b) not in KNOWN_EXCEPTIONS]
    assert upward == []


def test_no_two_parts_import_each_other():
    edges = _edges()
    both = sorted({tuple(sorted(pair)) for pair in edges if pair[::-1] in edges
                   and pair not in KNOWN_EXCEPTIONS and pair[::-1] not in KNOWN_EXCEPTIONS})
    assert both == []


def test_the_checker_sees_relative_and_lazy_imports(tmp_path):
    """The parser itself: a lazy `from ..runners import x` in argo counts as argo -> runners."""
    module = PACKAGE / "argo" / "pods.py"
    assert "s1tiling_cloud.runners.argo_progress" in _imports(module)
    cli = _imports(PACKAGE / "cli.py")
    assert "s1tiling_cloud.argo" in cli and "s1tiling_cloud.demo" in cli  # imported inside functions
    assert _part("s1tiling_cloud.__version__") == "__init__" and _part("s1tiling_cloud.geo.dem") == "geo"


def test_storage_knows_no_product_rules():
    """`store` reads and writes bytes: the re-run rule and the quicklook's pixels and tags are
    the stages' (`stages.base.provenance_matches`, `stages.quicklook.write_quicklook`)."""
    imported = _imports(PACKAGE / "store.py")
    assert not [m for m in imported if m.startswith("s1tiling_cloud.outputs")]
