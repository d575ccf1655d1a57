"""The metric projection suited to the data."""

from __future__ import annotations

import pytest
from pyproj import Geod

from kurszugang.crs import ANALYSIS_CRS, metric_crs_for, transformer


@pytest.mark.parametrize(("lon", "lat", "want"), [
    (11.5, 48.1, ANALYSIS_CRS),      # Bavaria: zone 32, ETRS89
    (8.5, 47.2, ANALYSIS_CRS),       # Zug
    (13.4, 52.5, "EPSG:25833"),      # Berlin: zone 33
    (-120.5, 44.0, "EPSG:32610"),    # Oregon
    (151.2, -33.9, "EPSG:32756"),    # Sydney
])
def test_zone(lon: float, lat: float, want: str) -> None:
    assert metric_crs_for(lon, lat) == want


def test_distances_in_the_chosen_zone_are_true_to_under_a_thousandth() -> None:
    lon, lat = -120.5, 44.0
    crs = metric_crs_for(lon, lat)
    tr = transformer("EPSG:4326", crs)
    x0, y0 = tr.transform(lon, lat)
    x1, y1 = tr.transform(lon + 0.02, lat + 0.01)
    planar = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
    true = Geod(ellps="WGS84").inv(lon, lat, lon + 0.02, lat + 0.01)[2]
    assert abs(planar / true - 1) < 1e-3
    # the Bavarian projection is far off there: the reason for choosing per feed
    tb = transformer("EPSG:4326", ANALYSIS_CRS)
    a, b = tb.transform(lon, lat), tb.transform(lon + 0.02, lat + 0.01)
    bav = ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5
    assert bav / true > 1.1
