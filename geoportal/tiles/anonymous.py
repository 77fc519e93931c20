"""Anonymous tiles of one collection in one statement: the layer lookup and the render together.

Most tile traffic is anonymous and, behind nginx's file cache, every request that reaches the
geoportal is a miss to render. Looking the layer up first and rendering second costs two round trips
and two statements; here the tile is a scalar subquery of the public-layer lookup
(`layers.selectors.public_layer_and_tile`), built from the layer as this process last saw it.

Never stale, never leaking: the statement returns the layer as it is now, and the tile only when that
layer is public (the subquery is evaluated for the lookup's row only). When the layer now asks for
another statement (its theme, fields or id changed) the fresh layer's tile is taken from the file
cache or rendered again, so what is sent is always what the two-step path would send. Both parts read one snapshot, so the
tile matches the version in its cache key and ETag even while an import commits.

The two-step path stays for signed-in callers (their visibility differs), revalidations
(`If-None-Match` may need no render at all), tiles already in the file cache, and a collection this
process has not served yet (it is remembered then).
"""

from __future__ import annotations

from django.http import HttpRequest

from geoportal.tiles.cache import TileAddress, tile_cache, tile_sources
from layers.access import principal_of
from layers.errors import NotFound
from layers.models import Layer
from layers.selectors import public_layer_and_tile
from layers.tiles import tile_finish, tile_statement, tileset_key

# Collection id → the public layer as this process last saw it: only the shape of the next statement
# comes from here, never an answer (at most one entry per public collection that was asked for).
_last_seen: dict[str, Layer] = {}


def _anonymous(request: HttpRequest) -> bool:
    return principal_of(request.user).user_id is None


def remember(request: HttpRequest, layer: Layer) -> None:
    """Note the layer an anonymous request was served (the two-step path), for the next statement."""
    if _anonymous(request):
        _last_seen[layer.collection_id] = layer


def layer_and_tile(request: HttpRequest, *, cid: str, z: int, x: int, y: int) -> tuple[Layer, bytes | None] | None:
    """(layer, tile bytes) of an anonymous tile request in one statement; None: take the two-step path.

    The bytes are None when the layer changed so that it needs another statement (rare): the caller
    then serves the fresh layer's tile as the two-step path would, without looking the layer up again.

    Raises NotFound, exactly as the two-step path, when the collection is missing or not public.
    """
    seen = _last_seen.get(cid)
    if seen is None or "If-None-Match" in request.headers or not _anonymous(request):
        return None
    sources = tile_sources([seen])
    statement = tile_statement(sources=sources, z=z, x=x, y=y)
    if statement is None:  # nothing to render at this zoom: the lookup alone answers
        return None
    cache = tile_cache()
    if cache is not None and cache.has(TileAddress(tileset_key(sources), z, x, y)):
        return None
    try:
        layer, raw = public_layer_and_tile(cid=cid, statement=statement)
    except NotFound:
        _last_seen.pop(cid, None)
        raise
    _last_seen[cid] = layer
    fresh = tile_sources([layer])
    if tile_statement(sources=fresh, z=z, x=x, y=y) != statement:
        return layer, None  # the fresh layer's tile: from the file cache, or rendered from it
    return layer, tile_finish(raw, statement)
