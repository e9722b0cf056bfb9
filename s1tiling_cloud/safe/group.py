"""A group of the product's metadata as plain numpy arrays: what the XML readers build, before
(and without) xarray.

The orthorectification reads a few metadata groups (orbit, coordinate conversion, calibration
and noise vectors) in a process of its own, where importing xarray and pandas and building
their Datasets cost more than the work itself. A `Group` holds the same variables, dimensions
and attributes as the group's Dataset, and reads the same way for what the numeric code uses
(``group["name"].values``, ``group.sizes``, ``group.attrs``, ``"name" in group``), so that code
takes either. `Group.to_dataset` makes the Dataset that `Sentinel1Product.open_group` returns;
xarray is imported there only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    import xarray as xr


class Variable(NamedTuple):
    """One variable: its dimension names, values and attributes (xarray's tuple form)."""

    dims: tuple[str, ...]
    values: np.ndarray
    attrs: dict[str, Any]


def _variable(value: tuple) -> Variable:
    dims, values, *attrs = value
    return Variable((dims,) if isinstance(dims, str) else tuple(dims), np.asarray(values),
                    dict(attrs[0]) if attrs else {})


class Group:
    """Variables (name -> `Variable`, in their Dataset's order), which of them are coordinates,
    and the group's attributes.

    Parameters
    ----------
    data_vars, coords : mapping of str to tuple
        Name -> ``(dims, values[, attrs])``, dims a name or a tuple of names, as
        ``xr.Dataset`` takes them (data variables first, as it orders them).
    attrs : mapping, optional
        The group's attributes.
    """

    variables: dict[str, Variable]
    coord_names: tuple[str, ...]
    attrs: dict[str, Any]

    def __init__(self, data_vars: Mapping[str, tuple], coords: Mapping[str, tuple] | None = None,
                 attrs: Mapping[str, Any] | None = None) -> None:
        coords = dict(coords or {})
        self.variables = {name: _variable(value) for name, value in {**data_vars, **coords}.items()}
        self.coord_names = tuple(coords)
        self.attrs = dict(attrs or {})

    @classmethod
    def _of(cls, variables: dict[str, Variable], coord_names: tuple[str, ...],
            attrs: dict[str, Any]) -> Group:
        group = cls({}, attrs=attrs)
        group.variables, group.coord_names = variables, coord_names
        return group

    def __repr__(self) -> str:
        variables = ", ".join(f"{name}{v.dims}" for name, v in self.variables.items())
        return f"Group({variables}; coords {self.coord_names})"

    def __getitem__(self, name: str) -> Variable:
        return self.variables[name]

    def __contains__(self, name: object) -> bool:
        return name in self.variables

    @property
    def sizes(self) -> dict[str, int]:
        """Dimension name -> length."""
        sizes: dict[str, int] = {}
        for variable in self.variables.values():
            sizes.update(zip(variable.dims, variable.values.shape, strict=True))
        return sizes

    def with_coords(self, coords: Mapping[str, tuple]) -> Group:
        """A copy with `coords` (name -> ``(dims, values[, attrs])``) added after the others, as
        ``Dataset.assign_coords`` adds them."""
        return Group._of({**self.variables, **{n: _variable(v) for n, v in coords.items()}},
                         (*self.coord_names, *coords), self.attrs)

    def renamed(self, names: Mapping[str, str]) -> Group:
        """A copy with variables and dimensions renamed (`names`: old -> new)."""
        variables = {names.get(name, name): Variable(tuple(names.get(d, d) for d in v.dims),
                                                     v.values, v.attrs)
                     for name, v in self.variables.items()}
        return Group._of(variables, tuple(names.get(name, name) for name in self.coord_names),
                         self.attrs)

    def merged(self, other: Group) -> Group:
        """The variables of both (names and dimensions apart), in order, as ``xr.merge`` puts
        them; the attributes of this one."""
        return Group._of({**self.variables, **other.variables},
                         (*self.coord_names, *other.coord_names), self.attrs)

    def to_dataset(self) -> xr.Dataset:
        """The xarray Dataset of this group (its variables in order, coordinates, attributes)."""
        import xarray as xr

        dataset = xr.Dataset({name: tuple(v) for name, v in self.variables.items()},
                             attrs=self.attrs)
        return dataset.set_coords([name for name in self.coord_names
                                   if name not in dataset.coords])
