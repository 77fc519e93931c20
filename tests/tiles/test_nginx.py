"""The production nginx config (docker/nginx.conf, via bench/nginx_local.sh) in front of a live geoportal.

Debian's nginx serves public tiles of unversioned URLs from the tile cache's
public tree; these tests check it serves the geoportal's very bytes and
headers, never an old version after a re-import, never a non-public layer, and
leaves signed-in, token and parameterised requests to the geoportal.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import pytest
from django.contrib.auth.models import User
from django.test import Client

from geoportal.config import project_config
from ingest.services import import_file
from layers.services import layer_set_visibility

from .conftest import decode, lonlat_in_tile

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)
# Headers that legitimately differ between a file nginx sends and the geoportal's response.
TRANSPORT = {"date", "server", "connection", "content-length", "etag", "last-modified", "x-cache-status", "accept-ranges"}
DECODERS = {None: lambda body: body, "gzip": gzip.decompress, "br": brotli.decompress}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def tile(self) -> dict:
        return decode(DECODERS[self.headers.get("content-encoding")](self.body))

    @property
    def source(self) -> str:
        return self.headers.get("x-cache-status", "")


def fetch(base: str, path: str, headers: dict[str, str] | None = None) -> Reply:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Accept-Encoding": "identity", **(headers or {})})
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def nginx(live_server, tile_cache_dir: Path, tmp_path: Path) -> Iterator[str]:
    """docker/nginx.conf on a free port, in front of the live server, serving this test's tile cache."""
    if shutil.which("nginx") is None:
        pytest.fail("Debian's nginx is not installed: `scripts/bootstrap.sh test` installs nginx-light.")
    port = free_port()
    env = {
        **os.environ,
        "GP_PORT": str(urlsplit(live_server.url).port),
        "NGINX_PORT": str(port),
        "TILE_ROOT": str(tile_cache_dir),
        "STATIC_ROOT": str(tmp_path / "static"),
        "NGINX_WORKERS": "1",
    }
    script = str(ROOT / "bench" / "nginx_local.sh")
    started = subprocess.run([script, "start", str(tmp_path)], env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        subprocess.run([script, "stop", str(tmp_path)], env=env, capture_output=True, timeout=60)


def from_disk(base: str, path: str, headers: dict[str, str] | None = None) -> Reply:
    """The tile through nginx once it is cached: the first request renders it (gunicorn), the second reads the file."""
    first = fetch(base, path, headers)
    assert first.status == 200, first
    second = fetch(base, path, headers)
    assert second.source == "DISK", second.headers
    return second


def comparable(reply: Reply) -> dict[str, str]:
    return {name: value for name, value in reply.headers.items() if name not in TRANSPORT}


@pytest.mark.parametrize("accept", ["identity", "gzip", "gzip, deflate, br"])
def test_nginx_serves_public_tiles_from_disk_with_the_geoportals_bytes_and_headers(lida, nginx, live_server, accept):
    for path in (f"/tiles/lida-buildings/{lida.z}/{lida.x}/{lida.y}.mvt", f"/tiles/city/lida/{lida.z}/{lida.x}/{lida.y}.mvt"):
        disk = from_disk(nginx, path, {"Accept-Encoding": accept})
        django = fetch(live_server.url, path, {"Accept-Encoding": accept})
        assert disk.status == django.status == 200
        assert disk.tile == django.tile and disk.tile  # decoded: the same layers, features and attributes
        assert comparable(disk) == comparable(django)
    assert set(disk.tile) == {"lida-buildings", "lida-roads"}  # the composite: public layers only


def test_an_empty_tile_is_the_geoportals_204_from_its_marker(lida, nginx, live_server):
    path = f"/tiles/lida-buildings/{lida.z}/{lida.x - 10}/{lida.y - 10}.mvt"
    first, second = fetch(nginx, path), fetch(nginx, path)  # rendered (by the geoportal), then the marker
    django = fetch(live_server.url, path)
    assert first.status == second.status == django.status == 204
    assert first.source != "DISK" and second.source == "DISK" and second.body == b""
    assert comparable(second) == comparable(django)


def building_feature(fid: str, name: str, lida, fx: float, fy: float) -> dict:
    corners = [(fx, fy), (fx + 0.05, fy), (fx + 0.05, fy + 0.05), (fx, fy + 0.05), (fx, fy)]
    ring = [list(lonlat_in_tile(lida.z, lida.x, lida.y, a, b)) for a, b in corners]
    return {"type": "Feature", "id": fid, "properties": {"name": name}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_after_a_reimport_the_old_tile_is_never_served(lida, nginx, tmp_path):
    path = f"/tiles/lida-buildings/{lida.z}/{lida.x}/{lida.y}.mvt"
    old = from_disk(nginx, path)
    assert "Hospital" in {f["properties"].get("name") for f in old.tile["lida-buildings"]["features"]}
    source = tmp_path / "buildings.geojson"
    features = [building_feature("b2", "Clinic", lida, 0.5, 0.5), building_feature("b4", "Library", lida, 0.3, 0.6)]
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    import_file(config=project_config(), path=source, city="lida", theme="buildings", layer="buildings")
    validators = {"If-Modified-Since": old.headers["last-modified"], "If-None-Match": '"stale"'}
    for reply in (fetch(nginx, path), fetch(nginx, path), fetch(nginx, path, validators)):
        assert reply.status == 200
        names = {f["properties"].get("name") for f in reply.tile["lida-buildings"]["features"]}
        assert names == {"Clinic", "Library"}
    assert fetch(nginx, path).source == "DISK"  # the new version is on disk again


def test_non_public_layers_are_never_in_the_public_tree_nor_served_anonymously(lida, nginx, tile_cache_dir):
    admin = Client()
    admin.force_login(User.objects.create_superuser("admin"))
    for cid in ("lida-pipes", "lida-secret"):
        assert admin.get(f"/tiles/{cid}/{lida.z}/{lida.x}/{lida.y}.mvt").status_code == 200  # rendered into sets/
        assert fetch(nginx, f"/tiles/{cid}/{lida.z}/{lida.x}/{lida.y}.mvt").status == 404
    assert admin.get(f"/tiles/city/lida/{lida.z}/{lida.x}/{lida.y}.mvt").status_code == 200
    public = tile_cache_dir / "public"
    assert {p.name for p in public.iterdir()} == {"city", "lida-buildings", "lida-roads", "lida-addresses"}
    for tile in public.rglob("*.mvt"):
        # The hidden layers' features are the only ones with a `kind` (water, gas).
        assert not any("kind" in f["properties"] for layer in decode(tile.read_bytes()).values() for f in layer["features"])
        assert not {"lida-pipes", "lida-secret"} & set(decode(tile.read_bytes()))
    composite = from_disk(nginx, f"/tiles/city/lida/{lida.z}/{lida.x}/{lida.y}.mvt")
    assert set(composite.tile) == {"lida-buildings", "lida-roads"}


def test_a_layer_made_internal_leaves_the_public_tree_at_once(lida, nginx, tile_cache_dir):
    path = f"/tiles/lida-roads/{lida.z}/{lida.x}/{lida.y}.mvt"
    assert from_disk(nginx, path).tile
    layer_set_visibility(layer=lida.roads, visibility="internal")
    assert not (tile_cache_dir / "public" / "lida-roads").exists()
    assert fetch(nginx, path).status == 404
    composite = fetch(nginx, f"/tiles/city/lida/{lida.z}/{lida.x}/{lida.y}.mvt")
    assert set(composite.tile) == {"lida-buildings"}


def test_signed_in_token_and_parameterised_requests_bypass_the_tree(lida, nginx):
    path = f"/tiles/city/lida/{lida.z}/{lida.x}/{lida.y}.mvt"
    assert set(from_disk(nginx, path).tile) == {"lida-buildings", "lida-roads"}
    refused = fetch(nginx, path, {"Authorization": "Bearer not-a-token"})
    assert refused.status == 401  # the geoportal checked the token: the file on disk was not sent
    admin = Client()
    admin.force_login(User.objects.create_superuser("admin"))
    signed_in = fetch(nginx, path, {"Cookie": f"sessionid={admin.cookies['sessionid'].value}"})
    assert signed_in.source != "DISK" and {"lida-pipes", "lida-secret"} <= set(signed_in.tile)
    assert signed_in.headers["cache-control"].startswith("private")
    versioned = fetch(nginx, path + "?v=1")
    assert versioned.source != "DISK" and set(versioned.tile) == {"lida-buildings", "lida-roads"}
