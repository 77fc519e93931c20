"""The optional external raster basemap (GEOPORTAL_BASEMAP_URL): typed and validated at start-up, drawn under
our layers, and the only other origin the Content-Security-Policy opens — and only when it is configured.

The browser test points it at a tiny HTTP server on another localhost port that serves one PNG for every tile.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from geoportal.env import Basemap, load_env
from tests.viewer.conftest import BrowserLog, SampleCity, canvas_pixels, save_screenshot, wait_for_map

TILE_RGB = (40, 170, 90)  # a green no layer of ours uses


def _env(**values: str) -> dict[str, str]:
    return {"GEOPORTAL_DEBUG": "1", "GEOPORTAL_SECRET_KEY": "k" * 40, "GEOPORTAL_DATA_DIR": "/nonexistent/geoportal", **values}


# --- configuration -------------------------------------------------------------------------------


def test_no_basemap_by_default() -> None:
    assert load_env(_env()).basemap is None


def test_basemap_url_and_attribution_are_read() -> None:
    env = load_env(
        _env(GEOPORTAL_BASEMAP_URL="https://tiles.example.by:8443/osm/{z}/{x}/{y}.png", GEOPORTAL_BASEMAP_ATTRIBUTION="© НКА")
    )
    assert env.basemap == Basemap(url="https://tiles.example.by:8443/osm/{z}/{x}/{y}.png", attribution="© НКА", max_zoom=19)
    assert env.basemap.origin == "https://tiles.example.by:8443"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("tiles.example.by/{z}/{x}/{y}.png", "http or https"),
        ("ftp://tiles.example.by/{z}/{x}/{y}.png", "http or https"),
        ("https://user:secret@tiles.example.by/{z}/{x}/{y}.png", "no user or password"),
        ("https://tiles.example.by/{z}/{x}.png", "{y} must each appear exactly once"),
        ("https://tiles.example.by/style.json", "{z}, {x}, {y} must each appear exactly once"),
        ("https://tiles.example.by/{z}/{x}/{y}.png; script-src *", "spaces, quotes, ';'"),
        ("https://{s}.tiles.example.by/{z}/{x}/{y}.png", "http or https"),
        ("https://tiles.example.by/{z}/{x}/{y}@{r}.png", "placeholders other than"),
    ],
)
def test_a_bad_basemap_url_stops_start_up_naming_the_variable(url: str, says: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^GEOPORTAL_BASEMAP_URL=") as error:
        load_env(_env(GEOPORTAL_BASEMAP_URL=url))
    assert says in str(error.value)


def test_attribution_without_url_is_a_start_up_error() -> None:
    with pytest.raises(ImproperlyConfigured, match="GEOPORTAL_BASEMAP_ATTRIBUTION is set but GEOPORTAL_BASEMAP_URL is not"):
        load_env(_env(GEOPORTAL_BASEMAP_ATTRIBUTION="© someone"))


def test_bad_basemap_max_zoom_names_the_variable() -> None:
    with pytest.raises(ImproperlyConfigured, match="GEOPORTAL_BASEMAP_MAXZOOM=30"):
        load_env(_env(GEOPORTAL_BASEMAP_URL="https://t.example.by/{z}/{x}/{y}.png", GEOPORTAL_BASEMAP_MAXZOOM="30"))


# --- the page and its policy --------------------------------------------------------------------------


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


@pytest.fixture
def with_basemap(settings: Any) -> Iterator[Basemap]:
    """GEOPORTAL_BASEMAP_URL as settings.py would set it, pointed at a tile server on another localhost port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TileHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    basemap = Basemap(
        url=f"http://127.0.0.1:{server.server_address[1]}/tiles/{{z}}/{{x}}/{{y}}.png", attribution="Test <tiles> & co"
    )
    settings.GEOPORTAL_BASEMAP = basemap
    _TileHandler.served = []
    yield basemap
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_without_a_basemap_the_policy_allows_only_our_origin(client: Client, cities: Any) -> None:
    response = client.get("/sample/")
    policy = _directives(response["Content-Security-Policy"])
    assert policy["connect-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert '"basemap"' not in response.content.decode()


@pytest.mark.django_db
def test_with_a_basemap_the_policy_allows_exactly_its_origin(client: Client, cities: Any, with_basemap: Basemap) -> None:
    for path in ("/", "/sample/"):
        response = client.get(path)
        policy = _directives(response["Content-Security-Policy"])
        assert policy["connect-src"] == ["'self'", with_basemap.origin], path
        assert policy["img-src"] == ["'self'", "data:", "blob:", with_basemap.origin], path
        assert policy["script-src"][0] == "'self'" and with_basemap.origin not in policy["script-src"]
        assert policy["default-src"] == ["'self'"]


# --- in the browser -------------------------------------------------------------------------------------


def _png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A one-colour RGB PNG, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class _TileHandler(BaseHTTPRequestHandler):
    body = _png(TILE_RGB)
    served: list[str] = []

    def do_GET(self) -> None:  # the name http.server calls
        type(self).served.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Access-Control-Allow-Origin", "*")  # MapLibre fetches tiles with CORS
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_basemap_tiles_are_fetched_and_drawn_under_our_layers(
    live_server, browser_page, helsinki_centre: SampleCity, with_basemap: Basemap
) -> None:
    page, log = browser_page
    page.goto(f"{live_server.url}/sample/")
    wait_for_map(page)
    pixels = canvas_pixels(page).astype(int)[..., :3]
    save_screenshot(page, "basemap-under-sample")
    assert _TileHandler.served and all(p.startswith("/tiles/") and p.endswith(".png") for p in _TileHandler.served)
    assert {u for u in log.foreign_requests(live_server.url)} <= {f"{with_basemap.origin}{p}" for p in _TileHandler.served}
    assert log.errors == []
    green = (np.abs(pixels - np.array(TILE_RGB)).max(axis=2) < 8).mean()
    assert green > 0.3, "the basemap's tiles should show where our layers leave the ground empty"
    layers = page.evaluate("() => window.geoportalMap.getStyle().layers.map((l) => l.id)")
    assert layers.index("basemap") < min(i for i, name in enumerate(layers) if name.startswith("sample-")), "under our layers"
    attribution = page.locator(".maplibregl-ctrl-attrib").inner_text()
    assert "Test <tiles> & co" in attribution  # shown as text, not parsed as HTML


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_overview_draws_the_basemap_too(live_server, browser_page, belarus_country_boundary, with_basemap: Basemap) -> None:
    page, log = browser_page
    page.goto(f"{live_server.url}/")
    wait_for_map(page)
    assert _TileHandler.served
    assert log.errors == []
    assert BrowserLog(requests=log.foreign_requests(live_server.url)).foreign_requests(with_basemap.origin) == []
