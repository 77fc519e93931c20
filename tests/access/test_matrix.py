"""Every surface × every kind of caller: what each one is served, decoded and compared with the database.

A new surface is one row in SURFACES: its name, a sample path (which must be
routed: a surface that disappears fails the test) and a check that asserts what
a caller may and may not see. A hidden layer must answer exactly
like a missing one: same status, same bytes apart from the id, same length.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve

from tests.access.conftest import SEARCH_WORD, Caller, World, decode


def missing_twin(cid: str) -> str:
    """A collection id that does not exist, of the same length and city (so sizes must match exactly)."""
    city, _, slug = cid.partition("-")
    return f"{city}-{'x' * len(slug)}"


def assert_like_missing(caller: Caller, path: str, cid: str) -> None:
    hidden = caller.client.get(path)
    twin = missing_twin(cid)
    missing = caller.client.get(path.replace(cid, twin))
    who = f"{caller.name}: {path}"
    assert hidden.status_code == missing.status_code == 404, who
    assert hidden.content.replace(cid.encode(), twin.encode()) == missing.content, who
    assert len(hidden.content) == len(missing.content), who
    assert hidden.get("Content-Type") == missing.get("Content-Type"), who


def ok(caller: Caller, path: str) -> dict:
    response = caller.client.get(path)
    assert response.status_code == 200, f"{caller.name}: {path} -> {response.status_code} {response.content[:300]!r}"
    return json.loads(response.content)


def per_layer(
    path_of: Callable[[str], str], visible: Callable[[World, Caller, str, dict], None]
) -> Callable[[World, Caller], None]:
    """A check over every layer: `visible` asserts the contents when the caller may see it, else it must look missing."""

    def check(world: World, caller: Caller) -> None:
        for cid in sorted(world.cids):
            if cid in caller.sees:
                visible(world, caller, cid, ok(caller, path_of(cid)))
            else:
                assert_like_missing(caller, path_of(cid), cid)

    return check


# --- OGC API Features ----------------------------------------------------------------------------


def check_collections(world: World, caller: Caller) -> None:
    listed = {c["id"] for c in ok(caller, "/ogc/collections")["collections"]}
    assert listed & world.cids == caller.sees, caller.name


def check_openapi(world: World, caller: Caller) -> None:
    doc = ok(caller, "/ogc/openapi")
    enum = set(doc["components"]["parameters"]["collectionId"]["schema"]["enum"])
    assert enum & world.cids == caller.sees, caller.name
    text = json.dumps(doc)
    assert not [cid for cid in world.cids - caller.sees if cid in text], caller.name


def collection_doc(world: World, caller: Caller, cid: str, doc: dict) -> None:
    assert doc["id"] == cid


def items_doc(world: World, caller: Caller, cid: str, doc: dict) -> None:
    assert sorted(f["id"] for f in doc["features"]) == world.fids[cid], f"{caller.name}: {cid}"
    assert all(f["properties"]["kind"] == cid.split("-", 1)[1] for f in doc["features"])


def check_item(world: World, caller: Caller) -> None:
    for cid in sorted(world.cids):
        for fid in world.fids[cid]:
            path = f"/ogc/collections/{cid}/items/{quote(fid, safe='')}"
            if cid in caller.sees:
                assert ok(caller, path)["id"] == fid
            else:
                assert_like_missing(caller, path, cid)


def queryables_doc(world: World, caller: Caller, cid: str, doc: dict) -> None:
    assert "kind" in doc["properties"], f"{caller.name}: {cid}"


def check_cql2_cannot_reach_other_layers(world: World, caller: Caller) -> None:
    """Filters naming other layers' ids, columns or features never bring their rows into this collection."""
    gas = world.layers["minsk-gas"]
    gas_ids = set(gas.features.values_list("id", flat=True))
    attempts = [
        f"layer_id = {gas.id}",
        f"id = {min(gas_ids)}",
        "kind = 'gas'",
        "fid = 'gas-0'",
        f"layer_id = {gas.id} OR 1 = 1",
        "kind = 'roads') OR (1 = 1",
    ]
    for attempt in attempts:
        response = caller.client.get("/ogc/collections/minsk-roads/items", {"filter": attempt, "limit": "100"})
        assert response.status_code in (200, 400), f"{caller.name}: filter={attempt!r} -> {response.status_code}"
        if response.status_code == 200:
            kinds = {f["properties"]["kind"] for f in response.json()["features"]}
            assert kinds <= {"roads"}, f"{caller.name}: filter={attempt!r} reached {kinds}"
        else:
            assert response.json()["code"] == "InvalidParameterValue"


# --- Tiles, TileJSON, styles, viewer -------------------------------------------------------------


def collection_tile(path_of: Callable[[str, int, int, int], str]) -> Callable[[World, Caller], None]:
    """Each collection's tile: all its features for a caller who sees it, else answered like a missing one."""

    def check(world: World, caller: Caller) -> None:
        for cid in sorted(world.cids):
            z, x, y = world.tiles[cid.split("-")[0]]
            path = path_of(cid, z, x, y)
            if cid not in caller.sees:
                assert_like_missing(caller, path, cid)
                continue
            response = caller.client.get(path)
            assert response.status_code == 200, f"{caller.name}: {path}"
            tile = decode(response.content)
            assert set(tile) == {cid}
            assert len(tile[cid]["features"]) == len(world.fids[cid])
            expected_scope = "public" if world.layers[cid].visibility == "public" else "private"
            assert response["Cache-Control"].startswith(expected_scope)

    return check


def composite(path_of: Callable[[str, int, int, int], str]) -> Callable[[World, Caller], None]:
    def check(world: World, caller: Caller) -> None:
        for city, (z, x, y) in world.tiles.items():
            response = caller.client.get(path_of(city, z, x, y))
            expected = caller.sees & world.city_cids(city)
            tile = decode(response.content) if response.status_code == 200 else {}
            assert set(tile) == expected, f"{caller.name}: {city}"
            for cid in expected:
                kinds = {f["properties"]["kind"] for f in tile[cid]["features"]}
                assert kinds == {cid.split("-", 1)[1]}
            private = any(world.layers[cid].visibility != "public" for cid in expected)
            assert response["Cache-Control"].startswith("private" if private else "public"), caller.name

    return check


def tilejson_doc(world: World, caller: Caller, cid: str, doc: dict) -> None:
    assert [v["id"] for v in doc["vector_layers"]] == [cid]


def check_city_tilejson(world: World, caller: Caller) -> None:
    for city in world.tiles:
        doc = ok(caller, f"/tiles/city/{city}.json")
        assert {v["id"] for v in doc["vector_layers"]} & world.cids == caller.sees & world.city_cids(city), caller.name


def check_style(world: World, caller: Caller) -> None:
    for city in world.tiles:
        response = caller.client.get(f"/styles/{city}.json")
        doc = json.loads(response.content)
        used = {layer.get("source-layer") for layer in doc["layers"]}
        assert used & world.cids == caller.sees & world.city_cids(city), caller.name
        hidden = world.cids - caller.sees
        assert not [cid for cid in hidden if cid.encode() in response.content], caller.name


def check_viewer_page(world: World, caller: Caller) -> None:
    for city in world.tiles:
        response = caller.client.get(f"/{city}/")
        assert response.status_code == 200, caller.name
        assert not [cid for cid in world.cids - caller.sees if cid.encode() in response.content], caller.name


# --- Viewer API: search, export, features by id, identify ------------------------------------------


def check_search(world: World, caller: Caller) -> None:
    doc = ok(caller, f"/api/search?q={SEARCH_WORD}&limit=50")
    found = {f["properties"]["collection"] for f in doc["features"]}
    assert found == caller.sees, caller.name
    for city in world.tiles:
        doc = ok(caller, f"/api/search?q={SEARCH_WORD}&limit=50&city={city}")
        assert {f["properties"]["collection"] for f in doc["features"]} == caller.sees & world.city_cids(city)


def check_export(world: World, caller: Caller) -> None:
    for cid in sorted(world.cids):
        path = f"/api/export?collection={cid}&format=geojson"
        if cid in caller.sees:
            response = caller.client.get(path)
            assert response.status_code == 200, f"{caller.name}: {cid}"
            assert sorted(f["id"] for f in json.loads(response.content)["features"]) == world.fids[cid]
        else:
            assert_like_missing(caller, path, cid)


def check_feature_by_id(world: World, caller: Caller) -> None:
    known = set()
    for cid, layer in world.layers.items():
        for feature_id in layer.features.values_list("id", flat=True):
            known.add(feature_id)
            response = caller.client.get(f"/api/feature/{feature_id}")
            if cid in caller.sees:
                assert response.status_code == 302, f"{caller.name}: {cid}"
                assert response["Location"].startswith(f"/ogc/collections/{cid}/items/")
            else:
                missing = caller.client.get(f"/api/feature/{max(known) + 10_000_000}")
                assert response.status_code == missing.status_code == 404, f"{caller.name}: {cid}"
                assert response.json()["code"] == missing.json()["code"]


def check_identify(world: World, caller: Caller) -> None:
    """Features near a point: every feature of a visible layer (the tolerance spans the tile), none of a hidden one."""
    for cid in sorted(world.cids):
        first = world.layers[cid].features.order_by("fid").first()
        assert first is not None
        path = f"/api/identify?collection={cid}&lon={first.geom.x!r}&lat={first.geom.y!r}&tolerance=5000"
        if cid in caller.sees:
            doc = ok(caller, path)
            assert sorted(f["id"] for f in doc["features"]) == world.fids[cid], f"{caller.name}: {cid}"
            assert all(f["properties"]["kind"] == cid.split("-", 1)[1] for f in doc["features"])
            assert all(f["links"][0]["href"].startswith(f"/ogc/collections/{cid}/items/") for f in doc["features"])
        else:
            assert_like_missing(caller, path, cid)


# --- OGC API Tiles ---------------------------------------------------------------------------------


ROAD_GEOJSON = (
    b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"A","kind":"roads"},'
    b'"geometry":{"type":"LineString","coordinates":[[27.55,53.90],[27.56,53.90]]}}]}'
)


def mentions(world: World, caller: Caller, cid: str, doc: dict) -> None:
    assert cid in json.dumps(doc), f"{caller.name}: {cid}"


def check_city_tilesets(world: World, caller: Caller) -> None:
    for city in world.tiles:
        text = json.dumps(ok(caller, f"/ogc/cities/{city}/tiles"))
        assert not [cid for cid in world.cids - caller.sees if cid in text], f"{caller.name}: {city}"


def check_import_api(world: World, caller: Caller) -> None:
    """Only writers may queue an import; a layer the caller cannot see is refused exactly like a missing one."""
    writer = caller.name == "national admin"
    answers = {}
    for slug in ("roads", "gas", "xxx"):  # public, restricted, missing (same length as "gas")
        upload = SimpleUploadedFile("roads.geojson", ROAD_GEOJSON, content_type="application/geo+json")
        form = {"file": upload, "city": "minsk", "theme": "roads" if slug != "gas" else "utilities", "layer": slug}
        answers[slug] = response = caller.client.post("/api/imports", form)
        expected = 401 if caller.name == "anonymous" else 202 if writer else 403
        assert response.status_code == expected, f"{caller.name}: {slug} -> {response.status_code} {response.content[:200]!r}"
    if not writer and "minsk-gas" not in caller.sees:
        assert answers["gas"].content.replace(b"minsk-gas", b"minsk-xxx") == answers["xxx"].content, caller.name
    if caller.name != "anonymous":
        jobs = ok(caller, "/api/imports")["imports"]
        assert len(jobs) == (3 if writer else 0), caller.name


@dataclass(frozen=True)
class Surface:
    name: str
    sample: str  # a path of this surface, to know whether it is routed yet
    check: Callable[[World, Caller], None]


SURFACES = [
    Surface("collections", "/ogc/collections", check_collections),
    Surface("collection", "/ogc/collections/x-y", per_layer(lambda cid: f"/ogc/collections/{cid}", collection_doc)),
    Surface("items", "/ogc/collections/x-y/items", per_layer(lambda cid: f"/ogc/collections/{cid}/items?limit=100", items_doc)),
    Surface("item", "/ogc/collections/x-y/items/1", check_item),
    Surface(
        "queryables", "/ogc/collections/x-y/queryables", per_layer(lambda c: f"/ogc/collections/{c}/queryables", queryables_doc)
    ),
    Surface("cql2 filter", "/ogc/collections/x-y/items", check_cql2_cannot_reach_other_layers),
    Surface("openapi", "/ogc/openapi", check_openapi),
    Surface("tile", "/tiles/x-y/0/0/0.mvt", collection_tile(lambda cid, z, x, y: f"/tiles/{cid}/{z}/{x}/{y}.mvt")),
    Surface("composite tile", "/tiles/city/x/0/0/0.mvt", composite(lambda c, z, x, y: f"/tiles/city/{c}/{z}/{x}/{y}.mvt")),
    Surface("tilejson", "/tiles/x-y.json", per_layer(lambda cid: f"/tiles/{cid}.json", tilejson_doc)),
    Surface("city tilejson", "/tiles/city/x.json", check_city_tilejson),
    Surface("style (viewer layer tree)", "/styles/x.json", check_style),
    Surface("viewer city page", "/minsk/", check_viewer_page),
    Surface("search", "/api/search", check_search),
    Surface("export", "/api/export", check_export),
    Surface("feature by id", "/api/feature/1", check_feature_by_id),
    Surface("identify", "/api/identify", check_identify),
    Surface(
        "OGC tiles: collection",
        "/ogc/collections/x-y/tiles/WebMercatorQuad/0/0/0",
        collection_tile(lambda cid, z, x, y: f"/ogc/collections/{cid}/tiles/WebMercatorQuad/{z}/{y}/{x}"),
    ),
    Surface(
        "OGC tiles: city",
        "/ogc/cities/x/tiles/WebMercatorQuad/0/0/0",
        composite(lambda c, z, x, y: f"/ogc/cities/{c}/tiles/WebMercatorQuad/{z}/{y}/{x}"),
    ),
    Surface(
        "OGC tiles: collection tilesets",
        "/ogc/collections/x-y/tiles",
        per_layer(lambda c: f"/ogc/collections/{c}/tiles", mentions),
    ),
    Surface("OGC tiles: city tilesets", "/ogc/cities/x/tiles", check_city_tilesets),
    Surface("import API", "/api/imports", check_import_api),
]


def routed(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.url_name != "viewer-city" or path.count("/") <= 2  # /api/… must not fall through to a city page


@pytest.mark.parametrize("surface", SURFACES, ids=[s.name for s in SURFACES])
def test_surface_serves_each_caller_exactly_what_it_may_see(world: World, surface: Surface):
    # Every surface in the table exists now: one that stops resolving must fail here, not skip.
    assert routed(surface.sample), f"{surface.sample} is no longer routed"
    for caller in world.callers:
        if not caller.rejected:
            surface.check(world, caller)


def test_revoked_and_expired_tokens_are_refused_on_every_surface(world: World):
    """One world for all surfaces: a refused token gets 401 before any surface runs, never anonymous data."""
    paths = [s.sample.replace("x-y", "minsk-roads").replace("/x/", "/minsk/").replace("/x.", "/minsk.") for s in SURFACES]
    assert all(map(routed, paths)), [p for p in paths if not routed(p)]
    for path in paths:
        for caller in (c for c in world.callers if c.rejected):
            response = caller.client.get(path)
            assert response.status_code == 401, f"{caller.name}: {path}"
            assert response["WWW-Authenticate"].startswith("Bearer")
            assert response.json()["code"] == "InvalidToken"
