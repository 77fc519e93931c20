# Search (issue #6): pg_trgm and unaccent, and the search index table layers_searchentry.
#
# A side table rather than an expression index over Feature.properties: the key
# is the script-independent fold of layers/translit.py (Cyrillic -> Latin,
# digraphs, street types, house numbers), which is Python, not an IMMUTABLE SQL
# function; one feature yields several keys (name:be, name:ru, street + number),
# one row each. No foreign keys on purpose: Django's test flush TRUNCATEs the
# tables it knows without CASCADE and would fail on a referencing table. The
# search query joins layers_feature and the visible layers, so rows of a
# deleted feature (ids are never reused) or layer simply never match;
# layers.search.search_index_layer rebuilds a layer's rows after each import.
from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TABLE layers_searchentry (
    id bigserial PRIMARY KEY,
    layer_id bigint NOT NULL,
    feature_id bigint NOT NULL,
    key text NOT NULL,
    label text NOT NULL,
    centre geometry(Point, 4326)
);
CREATE INDEX layers_searchentry_key_trgm ON layers_searchentry USING gin (key gin_trgm_ops);
CREATE INDEX layers_searchentry_layer ON layers_searchentry (layer_id);
CREATE INDEX layers_searchentry_feature ON layers_searchentry (feature_id);
"""

DROP = "DROP TABLE IF EXISTS layers_searchentry;"


class Migration(migrations.Migration):
    dependencies = [("layers", "0003_access")]

    operations: list = [migrations.RunSQL(CREATE, DROP)]
