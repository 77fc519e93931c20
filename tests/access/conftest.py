"""A small world for the access tests: two cities, layers of every visibility, and every kind of caller.

Minsk has a public road, an internal water-pipe layer and a restricted gas layer
(granted to the group "minsk-underground"); Brest has a public road and an
internal pipe layer. All Minsk features lie in one z14 tile, all Brest ones in
another. Callers: anonymous, a Brest viewer, a Minsk viewer, a Minsk viewer in
the underground group, a national admin, and API tokens of a service account
(itself a Minsk viewer in the underground group): unscoped, scoped to Minsk +
the gas layer, revoked, expired.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import mapbox_vector_tile
import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from layers.models import Layer
from layers.models_access import CityRole, LayerGrant, Role
from layers.search import search_index_layer
from layers.services_access import token_create, token_revoke

Z = 15  # tiles from z15 carry every attribute (layers.tiles.BRIEF_BELOW_ZOOM)
MINSK = (27.5615, 53.9023)
BREST = (23.6850, 52.0970)
SEARCH_WORD = "Kalinouskaga"  # every feature's name contains it, so one search finds them all


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def point_in_tile(z: int, x: int, y: int, fx: float, fy: float) -> str:
    n = 2**z
    lon = (x + fx) / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + fy) / n))))
    return f"POINT({lon} {lat})"


def decode(data: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


@dataclass
class Caller:
    name: str
    client: Client
    sees: frozenset[str]  # collection ids; empty with `rejected` for tokens answered 401
    rejected: bool = False


@dataclass
class World:
    layers: dict[str, Layer]
    fids: dict[str, list[str]]
    tiles: dict[str, tuple[int, int, int]]  # city slug -> z, x, y
    callers: list[Caller] = field(default_factory=list)

    @property
    def cids(self) -> frozenset[str]:
        return frozenset(self.layers)

    def city_cids(self, city: str) -> frozenset[str]:
        return frozenset(cid for cid in self.layers if cid.startswith(city + "-"))

    def caller(self, name: str) -> Caller:
        return next(c for c in self.callers if c.name == name)


PUBLIC = frozenset({"minsk-roads", "brest-roads"})


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _bearer(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def _layers(make_layer: Callable[..., Layer]) -> tuple[dict[str, Layer], dict[str, tuple[int, int, int]]]:
    mx, my = tile_of(*MINSK, Z)
    bx, by = tile_of(*BREST, Z)
    spec = [
        ("minsk", "roads", "roads", "public", (mx, my), 2),
        ("minsk", "pipes", "utilities", "internal", (mx, my), 2),
        ("minsk", "gas", "utilities", "restricted", (mx, my), 2),
        ("brest", "roads", "roads", "public", (bx, by), 1),
        ("brest", "pipes", "utilities", "internal", (bx, by), 1),
    ]
    layers = {}
    for city, slug, theme, visibility, (x, y), count in spec:
        features = [
            (
                f"{slug}-{i}",
                point_in_tile(Z, x, y, 0.2 + 0.3 * i, 0.4),
                {"name": f"{SEARCH_WORD} {city} {slug} {i}", "kind": slug},
            )
            for i in range(count)
        ]
        layer = make_layer(city, slug, theme, features, visibility=visibility)
        search_index_layer(layer=layer)
        layers[layer.collection_id] = layer
    return layers, {"minsk": (Z, mx, my), "brest": (Z, bx, by)}


@pytest.fixture(autouse=True)
def own_tile_cache(settings, tmp_path):
    """The server-side tile cache is on (a private tile cached for one caller must never reach another); uploads stay in tmp."""
    settings.GEOPORTAL = {**settings.GEOPORTAL, "TILE_CACHE": True, "TILE_CACHE_DIR": str(tmp_path / "tiles")}
    settings.GEOPORTAL_UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture
def world(make_layer, cities) -> World:
    layers, tiles = _layers(make_layer)
    underground = Group.objects.create(name="minsk-underground")
    LayerGrant.objects.create(layer=layers["minsk-gas"], group=underground)

    def user(name: str, *roles: tuple[str | None, str], groups: tuple[Group, ...] = ()) -> User:
        account = User.objects.create_user(name)  # no password: hashing one costs ~0.3 s per user
        for city, role in roles:
            CityRole.objects.create(user=account, city=cities[city] if city else None, role=role)
        account.groups.set(groups)
        return account

    brest_viewer = user("brest-viewer", ("brest", Role.VIEWER))
    minsk_viewer = user("minsk-viewer", ("minsk", Role.VIEWER))
    minsk_underground = user("minsk-underground", ("minsk", Role.VIEWER), groups=(underground,))
    national_admin = user("national-admin", (None, Role.NATIONAL_ADMIN))
    service = user("minsk-gis-service", ("minsk", Role.VIEWER), groups=(underground,))
    _, unscoped = token_create(name="unscoped", user=service)
    _, scoped = token_create(name="scoped", user=service, cities=[cities["minsk"]], layers=[layers["minsk-gas"]])
    revoked_token, revoked = token_create(name="revoked", user=service, cities=[cities["minsk"]])
    token_revoke(token=revoked_token)
    _, expired = token_create(
        name="expired", user=service, cities=[cities["minsk"]], expires_at=timezone.now() - timedelta(minutes=1)
    )
    everything = frozenset(layers)
    w = World(
        layers=layers,
        fids={cid: sorted(layer.features.values_list("fid", flat=True)) for cid, layer in layers.items()},
        tiles=tiles,
    )
    w.callers = [
        Caller("anonymous", Client(), PUBLIC),
        Caller("user of another city", _signed_in(brest_viewer), PUBLIC | {"brest-pipes"}),
        Caller("user of the city", _signed_in(minsk_viewer), PUBLIC | {"minsk-pipes"}),
        Caller("user of the city in the granted group", _signed_in(minsk_underground), PUBLIC | {"minsk-pipes", "minsk-gas"}),
        Caller("national admin", _signed_in(national_admin), everything),
        Caller("token without scope", _bearer(unscoped), PUBLIC),
        Caller("token with scope", _bearer(scoped), PUBLIC | {"minsk-pipes", "minsk-gas"}),
        Caller("revoked token", _bearer(revoked), frozenset(), rejected=True),
        Caller("expired token", _bearer(expired), frozenset(), rejected=True),
    ]
    return w
