"""Tiles: a stored Web Mercator copy of every feature geometry, indexed per layer.

`geom_3857` is a STORED generated column (PostgreSQL computes it on every
INSERT/UPDATE, COPY included, so writers need no change). Tile SQL then clips
and searches in EPSG:3857 directly instead of transforming each row per tile:
measured 30-40% less execution time for z15-16 tiles on 300k synthetic
buildings. The column is not declared on the Feature model (only raw tile SQL
reads it), so the ORM never selects or writes it.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE layers_feature
    ADD COLUMN geom_3857 geometry(Geometry, 3857)
    GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED;
CREATE INDEX layers_feature_layer_geom_3857 ON layers_feature USING gist (layer_id, geom_3857);
"""

BACKWARD = """
DROP INDEX IF EXISTS layers_feature_layer_geom_3857;
ALTER TABLE layers_feature DROP COLUMN IF EXISTS geom_3857;
"""


class Migration(migrations.Migration):
    dependencies = [("layers", "0004_search")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
