from tests.test_config import CITY_SLUGS


def test_cities_registered_from_config(cities):
    assert [s for s in cities if s != "sample"] == CITY_SLUGS
    assert cities["minsk"].name["be"] == "Мінск"
    assert cities["minsk"].extent.contains(cities["minsk"].centre)


def test_make_layer_sets_extent_and_count(make_layer):
    layer = make_layer(
        "lida", "buildings", "buildings", [("1", "POINT(25.3 53.89)", {"name": "a"}), ("2", "POINT(25.31 53.9)", {"levels": 3})]
    )
    assert layer.collection_id == "lida-buildings"
    assert layer.feature_count == 2
    assert layer.fields == {"name": "string", "levels": "integer"}
    assert layer.extent.extent == (25.3, 53.89, 25.31, 53.9)
