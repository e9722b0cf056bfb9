"""Deferred imports, so that a stage pod pays only for the modules its stage uses.

A pod runs one stage in a fresh process (`s1tiling-cloud stage NAME`); every module imported at
start-up is paid again by every pod. Two tools keep that cost down without changing what is
importable:

- `lazy_exports`: a package's public names (`from s1tiling_cloud.config import Request`) are
  looked up in their modules on first access (PEP 562's module `__getattr__`), not when the
  package is imported.
- `defer_module`: a third-party module that something imports eagerly but rarely uses (rasterio
  imports boto3 at start-up, ~0.4 s, for S3 sessions that this package makes without it) is
  a placeholder that runs it on its first attribute access, so code that uses it behaves as
  before; a submodule can be deferred too (the package's `__init__` says which, and why).
- `imports_frozen`: imports made out of the garbage collector's way, their objects frozen.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["defer_module", "imports_frozen", "lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The `__getattr__` and `__dir__` of a package whose public names load on first use.

    Parameters
    ----------
    package : str
        The package's `__name__`.
    exports : mapping of str to str
        Public name -> the submodule (relative, e.g. ``".model"``) that defines it.

    Returns
    -------
    tuple of callables
        Assign them to the package's `__getattr__` and `__dir__`.
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], package), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__


class _Deferred(types.ModuleType):
    """A placeholder in `sys.modules` that imports the real module on its first attribute
    look-up, then hands every look-up and assignment to it, so references to the placeholder
    (another module's `boto3` global) see the real module as it changes (submodules imported
    later, `boto3.setup_default_session`).

    Not `importlib.util.LazyLoader`: on Python 3.11 an `import` statement of a module already
    in `sys.modules` reads its `__spec__`, which makes LazyLoader run the module there and then.
    The placeholder has a real `__spec__`, so `import name` does not load it; `name.anything`
    does.
    """

    def _real(self) -> types.ModuleType:
        real = self.__dict__.get("_deferred_real")
        if real is None:
            name = self.__name__
            if sys.modules.get(name) is self:
                del sys.modules[name]
            try:
                real = importlib.import_module(name)
            except BaseException:
                sys.modules[name] = self
                raise
            self.__dict__["_deferred_real"] = real
        return real

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._real(), attribute)

    def __setattr__(self, attribute: str, value: Any) -> None:
        real = self.__dict__.get("_deferred_real")
        if real is None:
            super().__setattr__(attribute, value)
        else:
            setattr(real, attribute, value)


def _find_spec_without_importing(name: str) -> importlib.machinery.ModuleSpec | None:
    """The spec of a module, submodules included, with none of its parent packages run
    (`importlib.util.find_spec("a.b.c")` imports `a.b`)."""
    spec = None
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        prefix = ".".join(parts[:depth])
        if spec is None:
            spec = importlib.util.find_spec(prefix)
        elif spec.submodule_search_locations is None:
            return None  # a plain module has no submodules
        else:
            spec = importlib.machinery.PathFinder.find_spec(prefix,
                                                            spec.submodule_search_locations)
        if spec is None:
            return None
    return spec


def defer_module(name: str) -> None:
    """Make `import name` cheap: the module runs on its first attribute access.

    Nothing happens when the module is already imported or not installed (an import of it
    then fails as it would have). For a submodule (`a.b.c`), nothing happens either when its
    parent `a.b` is already imported (the submodule alone is then cheap); otherwise `import
    a.b.c` runs `a` alone, and the placeholder loads `a.b` with `a.b.c` on its first attribute
    access. Until then `a.b.c` is reached through `sys.modules` (`from a.b import c`, C-level
    imports), not as an attribute of a parent imported meanwhile that does not import it.

    Parameters
    ----------
    name : str
        A module's full name.
    """
    parent = name.rpartition(".")[0]
    if name in sys.modules or (parent and parent in sys.modules):
        return
    spec = _find_spec_without_importing(name)
    if spec is None or spec.loader is None:
        return
    placeholder = _Deferred(name)
    placeholder.__spec__ = spec
    sys.modules[name] = placeholder


@contextlib.contextmanager
def imports_frozen() -> Iterator[None]:
    """Run imports with the garbage collector off, then freeze what they made (later
    collections, and a forked child's, skip it): imports make almost no garbage, yet their ~10⁵
    new objects set off ~300 collections that go over them again and again."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
