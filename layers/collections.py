"""Collection ids: `{city}-{layer}` for city layers, `belarus-{layer}` for national ones."""

from __future__ import annotations

from layers.errors import NotFound
from layers.models import NATIONAL


def split_collection_id(cid: str) -> tuple[str | None, str]:
    """('lida', 'buildings') for 'lida-buildings'; (None, 'boundaries') for 'belarus-boundaries'."""
    city, sep, layer = cid.partition("-")
    if not sep or not city or not layer:
        raise NotFound(
            f"Collection {cid!r} does not exist.",
            hint="Collection ids look like '{city}-{layer}', e.g. 'lida-buildings'; see /ogc/collections.",
        )
    return (None if city == NATIONAL else city), layer


def collection_not_found(cid: str) -> NotFound:
    """The answer for a collection that does not exist or that the caller may not see (never says which)."""
    return NotFound(f"Collection {cid!r} does not exist.", hint="See /ogc/collections for the available collections.")
