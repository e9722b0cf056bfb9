"""Land or sea of 1° cells, from the GLOBE mask of the `global-land-mask` package."""

from __future__ import annotations

import pytest

from s1tiling_cloud.geo.landmask import cells_with_land, has_land

#: (south, west) corners: open sea (Atlantic, North Sea, Pacific), land, coasts with a little land.
SEA = [(0, -30), (41, -30), (58, 3), (59, 3), (-30, -140)]
LAND = [(43, 1), (41, 12), (70, -30), (-85, 0), (60, 5), (-1, -81)]


def test_cells_with_land_are_the_land_and_coast_cells():
    assert cells_with_land(SEA + LAND) == set(LAND)
    assert has_land(43, 1) and not has_land(0, -30)


def test_the_cells_at_the_antimeridian_and_poles():
    # Chukotka on both sides of 180°, Antarctica; the Gulf of Anadyr and the Arctic Ocean
    assert cells_with_land([(67, -180), (67, 179), (-90, 0), (64, -180), (89, 0)]) == {
        (67, -180), (67, 179), (-90, 0)}


def test_a_cell_outside_the_globe_is_refused():
    with pytest.raises(ValueError, match="latitude 90"):
        cells_with_land([(90, 0)])
