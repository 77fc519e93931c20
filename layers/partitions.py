"""A large layer's own partition of `layers_feature`, loaded without indexes and swapped in at the end.

Why: every row written into an indexed table updates its two GiST indexes one row at a time,
which is most of what a big import costs the database (~14 s of a 1M-building import). A
replace-import of at least PARTITION_FROM features therefore COPYs into a new, index-less
table, builds the indexes in one sorted pass each (`build_indexes`), and `attach`es the table as
the layer's partition — all inside the import's transaction, so readers see the old features
until it commits and a failed import leaves nothing behind (the new table is dropped with the
rollback). Small layers stay in the shared DEFAULT partition (migration 0006).

Locks: `attach` drops the layer's previous partition, which takes an ACCESS EXCLUSIVE lock on
`layers_feature` until the commit; it runs last, after everything else of the import, so
readers of other layers wait for milliseconds only (the commit), never for the load.

Order: the import writes rows in the order of the file. `reorder`, run after the import committed
(layers.services.layer_spatial_order, queued by the import), rewrites the partition in spatial order,
so a tile or a bbox page reads a few heap pages instead of rows scattered over the whole table.
"""

from __future__ import annotations

import re

from django.db import connection

from layers.models import Feature
from layers.sql import quote_ident

# Below this many features the shared partition is cheaper than a table, its indexes and an attach.
PARTITION_FROM = 50_000
PARENT = "layers_feature"
DEFAULT_PARTITION = "layers_feature_default"
_REORDERED = re.compile(r"_s(\d+)$")  # the name `reorder` gives a partition: "…_s<n>"


def wanted(feature_count: int) -> bool:
    """Whether an import of `feature_count` features (-1: unknown) gets a partition of its own."""
    return feature_count >= PARTITION_FROM


def create(*, layer_id: int, suffix: str) -> str:
    """A new empty table shaped like a partition of the layer; returns its quoted name.

    Named `layers_feature_l<layer>_<suffix>`: an import's run ("r<run>") or a rewrite's counter
    (`reorder`: "s<n>"), either way unlike the partition it is to replace.
    Until `build_indexes`, layer_id, created_at and updated_at default to the layer and the time of
    the import: a COPY of (fid, geom, properties) leaves the server three fewer values a row to parse.
    """
    table = quote_ident(f"layers_feature_l{int(layer_id)}_{suffix}")
    with connection.cursor() as cursor:
        # The CHECK lets ATTACH skip scanning the table for rows of other layers.
        cursor.execute(
            f"CREATE TABLE {table} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING GENERATED, "
            f"CONSTRAINT {quote_ident(f'layer_only_{int(layer_id)}_{suffix}')} CHECK (layer_id = {int(layer_id)}))"
        )
        # Ids come from the shared sequence, as they would through the parent table.
        cursor.execute(
            f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval(pg_get_serial_sequence(%s, 'id')), "
            f"ALTER COLUMN layer_id SET DEFAULT {int(layer_id)}, "
            "ALTER COLUMN created_at SET DEFAULT statement_timestamp(), "
            "ALTER COLUMN updated_at SET DEFAULT statement_timestamp()",
            [PARENT],
        )
    return table


def build_indexes(table: str) -> None:
    """The partition's indexes, each built in one pass (the GiST ones sorted): those the partitioned
    table requires (ATTACH adopts them instead of building its own) and plain GiST indexes on geom
    and geom_3857 — within one layer the composite (layer_id, …) ones would only be slower to build."""
    with connection.cursor() as cursor:
        # As a partition the table takes the parent's defaults again (the id's shared sequence stays).
        cursor.execute(
            f"ALTER TABLE {table} ALTER COLUMN layer_id DROP DEFAULT, "
            "ALTER COLUMN created_at DROP DEFAULT, ALTER COLUMN updated_at DROP DEFAULT"
        )
        cursor.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (layer_id, id)")
        cursor.execute(f"CREATE INDEX ON {table} (id)")
        cursor.execute(f"ALTER TABLE {table} ADD UNIQUE (layer_id, fid)")
        cursor.execute(f"CREATE INDEX ON {table} USING gist (geom)")
        cursor.execute(f"CREATE INDEX ON {table} USING gist (geom_3857)")
        # The same constraint as the parent's: ATTACH adopts it instead of checking every row again.
        cursor.execute(
            f"ALTER TABLE {table} ADD FOREIGN KEY (layer_id) REFERENCES layers_layer (id) DEFERRABLE INITIALLY DEFERRED"
        )
        cursor.execute(f"ANALYZE {table}")  # plans for the layer's first tiles, before autovacuum gets to it


def own_partition(layer_id: int) -> str | None:
    """The quoted name of the layer's own partition, if it has one."""
    name = _own_partition_name(layer_id)
    return quote_ident(name) if name is not None else None


def _own_partition_name(layer_id: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass AND pg_get_expr(c.relpartbound, c.oid) = %s",
            [PARENT, f"FOR VALUES IN ('{int(layer_id)}')"],
        )
        row = cursor.fetchone()
    return str(row[0]) if row else None


def attach(*, table: str, layer_id: int) -> None:
    """Make `table` the layer's partition, replacing the layer's features wherever they were."""
    previous = own_partition(layer_id)
    with connection.cursor() as cursor:
        if previous is not None:
            cursor.execute(f"DROP TABLE {previous}")
        else:
            cursor.execute(f"DELETE FROM {DEFAULT_PARTITION} WHERE layer_id = %s", [layer_id])
        cursor.execute(f"ALTER TABLE {PARENT} ATTACH PARTITION {table} FOR VALUES IN ({int(layer_id)})")


def drop_own(*, layer_id: int) -> bool:
    """Drop the layer's own partition with all its rows (a layer being deleted); False when it has none.

    Far cheaper than deleting a million rows through the parent, and it leaves no empty table behind.
    """
    own = own_partition(layer_id)
    if own is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {own}")
    return True


def spatially_ordered(layer_id: int) -> bool:
    """Whether the layer's own partition was written by `reorder` (and not replaced by an import since)."""
    name = _own_partition_name(layer_id)
    return name is not None and _REORDERED.search(name) is not None


def reorder(*, layer_id: int) -> bool:
    """Rewrite the layer's own partition with its rows in spatial order; False when it has none.

    The rows are copied as they are (ids, fids, timestamps): only their physical order changes.
    A new table is loaded, indexed and attached like an import's, which drops the old one: readers
    go on reading the old rows until the caller's transaction commits. The caller holds the layer
    row locked, so no write to the layer is lost between the copy and the swap.
    """
    current = _own_partition_name(layer_id)
    if current is None:
        return False
    # A counter ("s1", "s2", …): never the name of the partition it is to replace.
    done = _REORDERED.search(current)
    table = create(layer_id=layer_id, suffix=f"s{int(done.group(1)) + 1 if done else 1}")
    columns = ", ".join(quote_ident(name) for name in _stored_columns(current))
    with connection.cursor() as cursor:
        # PostGIS 3.3 sorts geometry (its btree operator class, gserialized_cmp) by a Hilbert curve
        # over each geometry's bounding-box centre (gbox_get_sortable_hash; checked on a 4x4 grid of
        # points: (0,0) (1,0) (1,1) (0,1) (0,2) …). Neighbours on the map end up in neighbouring pages.
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {quote_ident(current)} ORDER BY geom_3857")
    build_indexes(table)
    attach(table=table, layer_id=layer_id)
    return True


def _stored_columns(table: str) -> list[str]:
    """Every column of the feature model (the generated geom_3857 is not one: the new table computes it).

    Checked against the partition itself, so a column a migration adds without a model field stops
    the rewrite instead of being left behind empty.
    """
    columns = [str(field.column) for field in Feature._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attgenerated = ''",
            [quote_ident(table)],
        )
        stored = {name for (name,) in cursor.fetchall()}
    if stored != set(columns):
        raise RuntimeError(
            f"{table} has the columns {sorted(stored)}, the Feature model {sorted(columns)}: "
            "add the missing field to layers.models.Feature before reordering partitions"
        )
    return columns
