"""The run report page: one self-contained HTML file (no script, no font, no network).

Sections: the `Situation` and exit code, the request, the time per stage, then one card per
product: its quicklooks placed on the tile's footprint (the quicklook covers the tile's grid,
`proj:bbox`; an inline SVG draws the tile's outline and the valid-data footprint over it), and
a table of its files with their sizes and links. Quicklooks are inlined (`data:` URIs); links
to the COGs and STAC items are relative to the page when they share its folder tree or bucket,
so the page works from a disk, a copy, or the bucket served over HTTP.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from pyproj import CRS, Transformer

from ..stac.hrefs import relative_href
from .catalog import Product

#: Request keys shown up front (section, key, label); the whole request is in a <details>.
_REQUEST_KEYS = (
    ("processing", "tiles", "tiles"), ("data_source", "first_date", "first date"),
    ("data_source", "last_date", "last date"), ("data_source", "polarisation", "polarisations"),
    ("data_source", "orbit_direction", "orbit direction"),
    ("data_source", "relative_orbit_list", "relative orbits"),
    ("processing", "calibration", "calibration"),
    ("processing", "output_spatial_resolution", "resolution (m)"),
    ("processing", "engine", "engine"), ("paths", "output", "output"),
)

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ddd;padding:.25em .6em;
text-align:left;vertical-align:top} th{background:#f4f4f4} td.num{text-align:right}
.ok{color:#186a1e;font-weight:bold} .bad{color:#a4161a;font-weight:bold}
.product{border:1px solid #ccc;border-radius:6px;padding:1em;margin:1em 0}
.views{display:flex;flex-wrap:wrap;gap:1em}
.view{position:relative;width:360px;height:360px;background:#5f6b73}
.view img{position:absolute;left:0;top:0;width:100%;height:100%;filter:url(#nodata)}
.view svg.outline{position:absolute;left:0;top:0;width:100%;height:100%}
.caption{font-size:.9em;color:#444} .muted{color:#777}
pre{background:#f7f7f7;padding:.5em;overflow:auto;font-size:.85em}
"""
#: Black (only no-data in a dB quicklook) becomes transparent, the grey below showing through:
#: opacity 0 up to byte 8 (JPEG's ringing at the data's edge), 1 from byte 14.
_FILTERS = ('<svg width="0" height="0" style="position:absolute">'
            '<filter id="nodata" color-interpolation-filters="sRGB">'
            '<feColorMatrix type="matrix" values="1 0 0 0 0 0 1 0 0 0 0 0 1 0 0 '
            '14.2 14.2 14.2 0 -1.336"/></filter></svg>')


def render(products: Sequence[Product], page_uri: str, *, catalog_uri: str | None,
           run: Mapping[str, Any] | None) -> str:
    """The page's HTML for `products` (and the run's facts, when the runner recorded them)."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>s1tiling-cloud run report</title>", f"<style>{_CSS}</style></head><body>",
        _FILTERS, "<h1>s1tiling-cloud run report</h1>",
        f'<p class="muted">Page made {escape(generated)}'
        + (f' from the STAC catalog <a href="{escape(_link(page_uri, catalog_uri))}">'
           f"{escape(catalog_uri)}</a>" if catalog_uri else "") + ".</p>",
        _situation(run), _request(run), _stages(run),
        f"<h2>Products ({len(products)})</h2>",
    ]
    if not products:
        parts.append("<p>No product in the catalog.</p>" + _produced(page_uri, run))
    parts.extend(_product(page_uri, product) for product in products)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _situation(run: Mapping[str, Any] | None) -> str:
    if not run:
        return ("<h2>Situation</h2><p class=\"muted\">Not recorded: this page was rebuilt from "
                "the catalog alone (the runner's <code>run.json</code> is not next to it).</p>")
    code = int(run.get("code", 0))
    css = "ok" if code == 0 else "bad"
    seconds = float(run.get("seconds", 0.0))
    return (f'<h2>Situation</h2><p class="{css}">{escape(str(run.get("situation", "")))}</p>'
            f"<p>Exit code <b>{code}</b>; {seconds:.1f} s in all; finished "
            f"{escape(str(run.get('finished', '')))}.</p>"
            + "".join(f'<p class="bad">{escape(line)}</p>' for line in run.get("failures", [])))


def _request(run: Mapping[str, Any] | None) -> str:
    request = (run or {}).get("request") or {}
    if not request:
        return ""
    rows = []
    for section, key, label in _REQUEST_KEYS:
        value = (request.get(section) or {}).get(key)
        if value in (None, "", []):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        rows.append(f"<tr><th>{escape(label)}</th><td>{escape(shown)}</td></tr>")
    scenario = (run or {}).get("scenario")
    if scenario:
        rows.insert(0, f"<tr><th>scenario</th><td>{escape(str(scenario))}</td></tr>")
    full = escape(json.dumps(request, indent=1, sort_keys=True, default=str))
    return (f"<h2>Request</h2><table>{''.join(rows)}</table>"
            f"<details><summary>The whole request</summary><pre>{full}</pre></details>")


def _stages(run: Mapping[str, Any] | None) -> str:
    stages = (run or {}).get("stages") or {}
    if not stages:
        return ""
    rows = []
    for name, facts in stages.items():
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(facts.get("statuses", {}).items()))
        rows.append(f"<tr><td>{escape(name)}</td><td class=\"num\">{facts.get('nodes', 0)}</td>"
                    f"<td class=\"num\">{float(facts.get('seconds', 0.0)):.1f}</td>"
                    f"<td>{escape(statuses)}</td></tr>")
    return ("<h2>Time per stage</h2><table><tr><th>stage</th><th>steps</th><th>seconds "
            "(sum)</th><th>outcome</th></tr>" + "".join(rows) + "</table>")


def _produced(page_uri: str, run: Mapping[str, Any] | None) -> str:
    files = (run or {}).get("produced") or []
    if not files:
        return ""
    items = "".join(f'<li><a href="{escape(_link(page_uri, uri))}">{escape(_name(uri))}</a></li>'
                    for uri in files)
    return f"<p>Files the run made:</p><ul>{items}</ul>"


def _product(page_uri: str, product: Product) -> str:
    orbit = (f"{product.relative_orbit:03d} " if product.relative_orbit is not None else "") \
        + product.orbit_state
    valid = "" if product.valid_fraction is None else f", {100 * product.valid_fraction:.0f} % of the tile"
    head = (f'<div class="product" id="{escape(product.id)}"><h3>{escape(product.id)}</h3>'
            f'<p>Tile <b>{escape(product.tile)}</b>, {escape(product.datetime)}, '
            f"{escape(product.platform)}, relative orbit {escape(orbit)}, "
            f"polarisations {escape(' '.join(product.polarisations))}{escape(valid)}. "
            f'<a href="{escape(_link(page_uri, product.href))}">STAC item</a></p>')
    views = "".join(_view(product, pol, jpeg) for pol, jpeg in sorted(product.quicklooks.items(),
                                                                       key=_pol_order))
    rows = "".join(
        f"<tr><td>{escape(a.title)}</td><td><a href=\"{escape(_link(page_uri, a.href))}\">"
        f"{escape(_name(a.href))}</a></td><td class=\"num\">{_size(a.size)}</td></tr>"
        for a in product.assets)
    table = f"<table><tr><th>asset</th><th>file</th><th>size</th></tr>{rows}</table>"
    return f'{head}<div class="views">{views}</div>{table}</div>'


def _pol_order(entry: tuple[str, bytes]) -> tuple[int, str]:
    return ({"VV": 0, "HH": 0}.get(entry[0], 1), entry[0])


def _view(product: Product, pol: str, jpeg: bytes) -> str:
    """The quicklook over the tile's grid, with the tile's outline and the data footprint."""
    data = base64.b64encode(jpeg).decode("ascii")
    outline = ""
    if product.bbox and product.epsg:
        x0, y0, x1, y1 = product.bbox
        w, h = x1 - x0, y1 - y0
        to_map = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_epsg(product.epsg),
                                      always_xy=True)
        points = []
        for lon, lat in product.footprint:
            x, y = to_map.transform(lon, lat)
            points.append(f"{1000 * (x - x0) / w:.1f},{1000 * (y1 - y) / h:.1f}")
        footprint = (f'<polygon points="{" ".join(points)}" fill="none" stroke="#ffd400" '
                     'stroke-width="4" stroke-dasharray="14 8"/>') if points else ""
        outline = ('<svg class="outline" viewBox="0 0 1000 1000" preserveAspectRatio="none" '
                   'xmlns="http://www.w3.org/2000/svg">'
                   '<rect x="2" y="2" width="996" height="996" fill="none" stroke="#e4572e" '
                   f'stroke-width="5"/>{footprint}</svg>')
    alt = f"{pol} quicklook of {product.id}"
    return (f'<figure><div class="view"><img src="data:image/jpeg;base64,{data}" '
            f'alt="{escape(alt)}" class="quicklook">{outline}</div>'
            f'<figcaption class="caption">{escape(pol)} σ° (dB); red: tile {escape(product.tile)}'
            f", dashed yellow: valid data</figcaption></figure>")


def _link(page_uri: str, uri: str) -> str:
    """`uri` relative to the page where both are on one disk or bucket, else as it is."""
    if uri.startswith(("http://", "https://")):
        return uri
    return relative_href(page_uri, uri)


def _name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _size(size: int | None) -> str:
    if size is None:
        return ""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
