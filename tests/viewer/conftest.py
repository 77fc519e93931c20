"""Fixtures of the viewer tests: real OSM sample data in PostGIS, and headless Chromium from Debian.

The browser is Debian's /usr/bin/chromium (no Playwright browser download is
possible here); WebGL is rendered by SwiftShader (software), so MapLibre
draws real pixels without a GPU.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
import shapely
from pyogrio.raw import read
from shapely.ops import polylabel

from layers.models import Layer

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "geoportal" / "sample"
ARTIFACTS = REPO / "test-artifacts" / "viewer"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-swiftshader",  # WebGL in software: recent Chromium no longer falls back to it silently
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1100, "height": 760}
# Central Helsinki around Senate Square, inside the sample city's extent.
HELSINKI_CENTRE_BBOX = (24.940, 60.169, 24.949, 60.174)
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
# OSM highway values the roads theme knows as classes; the rest (footways, steps …) are left out.
ROAD_CLASSES = {
    "primary": "primary",
    "secondary": "secondary",
    "residential": "residential",
    "service": "service",
    "unclassified": "other",
}


def _read_gpkg(
    path: Path, layer: str, bbox: tuple[float, float, float, float] | None = None
) -> list[tuple[str, Any, dict[str, Any]]]:
    meta, fids, geoms, columns = read(path, layer=layer, bbox=bbox, return_fids=True)
    names = list(meta["fields"])
    return [
        (str(fid), shapely.from_wkb(geom), {name: columns[i][row] for i, name in enumerate(names)})
        for row, (fid, geom) in enumerate(zip(fids, geoms, strict=True))
    ]


@dataclass
class SampleCity:
    buildings: Layer
    roads: Layer
    named_building: dict[str, Any]  # fid, properties and a point inside it


@pytest.fixture
def helsinki_centre(make_layer: Callable[..., Layer]) -> SampleCity:
    """83 OSM buildings and ~170 streets of central Helsinki as layers of the `sample` city, with OSM attribution."""
    buildings = []
    named: dict[str, Any] = {}
    for fid, geom, row in _read_gpkg(SAMPLE / "helsinki_center_osm.gpkg", "buildings", HELSINKI_CENTRE_BBOX):
        props = {key: row[key] for key in ("name", "building", "levels", "addr_street", "addr_housenumber") if row[key]}
        if "levels" in props:
            levels = float(props["levels"])  # OSM has values such as "2.5"
            props["levels"] = int(levels) if levels.is_integer() else levels
        buildings.append((f"way/{row['osm_way_id'] or row['osm_id']}", geom.wkt, props))
        if props.get("name") == "Porthania":
            largest = max(getattr(geom, "geoms", [geom]), key=lambda part: part.area)
            inside = polylabel(largest, tolerance=1e-6)  # far from the edges, so from the streets too
            named = {"fid": buildings[-1][0], "properties": props, "point": (inside.x, inside.y)}
    roads = []
    for fid, geom, row in _read_gpkg(SAMPLE / "helsinki_center_osm.gpkg", "roads", HELSINKI_CENTRE_BBOX):
        if row["highway"] in ROAD_CLASSES:
            props = {"class": ROAD_CLASSES[row["highway"]], **({"name": row["name"]} if row["name"] else {})}
            roads.append((f"way/{fid}", geom.wkt, props))
    titles = {
        "buildings": {"be": "Будынкі", "ru": "Здания", "en": "Buildings"},
        "roads": {"be": "Вуліцы", "ru": "Улицы", "en": "Streets"},
    }
    building_layer = make_layer("sample", "buildings", "buildings", buildings, title=titles["buildings"])
    road_layer = make_layer("sample", "roads", "roads", roads, title=titles["roads"])
    for layer in (building_layer, road_layer):
        layer.attribution = OSM_ATTRIBUTION
        layer.save()
    assert named, "the sample data should contain the Porthania building"
    return SampleCity(buildings=building_layer, roads=road_layer, named_building=named)


@pytest.fixture
def belarus_country_boundary(make_layer: Callable[..., Layer]) -> Layer:
    """The national boundaries layer with the real outline of Belarus (geoBoundaries, CC BY 4.0)."""
    [(_fid, geom, _row)] = _read_gpkg(SAMPLE / "belarus_boundaries.gpkg", "country")
    layer = make_layer(None, "boundaries", "boundaries", [("BLR", geom.wkt, {"kind": "country", "name": "Belarus"})])
    layer.attribution = "geoBoundaries (CC BY 4.0)"
    layer.save()
    return layer


# --- the browser ---------------------------------------------------------------------------------


@dataclass
class BrowserLog:
    """What a page did: every request URL, console errors and uncaught exceptions."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign_requests(self, origin: str) -> list[str]:
        allowed = urlsplit(origin).netloc
        foreign = []
        for url in self.requests:
            parts = urlsplit(url.removeprefix("blob:"))
            if parts.scheme == "data":
                continue
            if parts.netloc != allowed:
                foreign.append(url)
        return foreign

    def assert_clean(self, origin: str) -> None:
        """No console error, no uncaught exception, nothing fetched from a host but `origin`."""
        assert self.errors == [], "the page logged errors"
        assert self.foreign_requests(origin) == [], "the page fetched from another host"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread; the Django ORM in
    # fixtures that run later refuses to work under a running loop without this.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[tuple[Any, BrowserLog]]:
    """A fresh context (no cookies) with a German UI locale, so the geoportal's own default (be) applies."""
    context = chromium.new_context(viewport=VIEWPORT, device_scale_factor=1, locale="de-DE")
    page = context.new_page()
    log = BrowserLog()
    page.on("request", lambda req: log.requests.append(req.url))
    page.on("console", lambda msg: log.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: log.errors.append(f"page error: {exc}"))
    yield page, log
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"))
    finally:
        context.close()


def save_screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


WAIT_FOR_MAP_IDLE = """
() => new Promise((resolve) => {
  const map = window.geoportalMap;
  if (!map) { resolve(false); return; }
  map.once("idle", () => resolve(true));
  map.triggerRepaint();
})
"""

# Read the WebGL drawing buffer right after MapLibre drew a frame (inside its "render"
# event the buffer is still intact, so preserveDrawingBuffer is not needed).
READ_CANVAS = """
() => new Promise((resolve) => {
  const map = window.geoportalMap;
  map.once("render", () => {
    const canvas = map.getCanvas();
    const gl = canvas.getContext("webgl2") || canvas.getContext("webgl");
    const width = gl.drawingBufferWidth, height = gl.drawingBufferHeight;
    const pixels = new Uint8Array(width * height * 4);
    gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    let text = "";
    for (let i = 0; i < pixels.length; i += 0x8000) text += String.fromCharCode.apply(null, pixels.subarray(i, i + 0x8000));
    resolve({ width, height, data: btoa(text) });
  });
  map.triggerRepaint();
})
"""


def wait_for_map(page: Any, timeout_ms: int = 30000) -> None:
    page.wait_for_function("() => window.geoportalMap && window.geoportalMap.loaded()", timeout=timeout_ms)
    page.evaluate(WAIT_FOR_MAP_IDLE)


def canvas_pixels(page: Any) -> np.ndarray:
    """The map's pixels, shape (height, width, 4) RGBA, top row first."""
    wait_for_map(page)
    result = page.evaluate(READ_CANVAS)
    flat = np.frombuffer(base64.b64decode(result["data"]), dtype=np.uint8)
    return flat.reshape(result["height"], result["width"], 4)[::-1]


def hex_rgb(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i : i + 2], 16) for i in (0, 2, 4)], dtype=float)
