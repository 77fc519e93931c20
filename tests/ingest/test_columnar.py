"""The columnar fast path stores exactly what the per-row path stores, and steps aside when it could not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from geoportal.config import project_config
from ingest.columnar import encode_rows, map_columns
from ingest.mapping import PropertyMapper, rows_from_lists
from ingest.report import WarningLog

ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=str)


def _mapper() -> PropertyMapper:
    return PropertyMapper(project_config().themes["buildings"], WarningLog())


def _per_row(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    mapper = _mapper()
    length = len(next(iter(columns.values())))
    return [mapper.map(row, number) for number, row in enumerate(rows_from_lists(columns, length), start=1)]


@pytest.fixture
def columns_with_synonyms_nulls_and_awkward_text() -> dict[str, list[Any]]:
    return {
        "Назва": ['Дом "А"\\1', None, "50% tab\there"],  # exact-case-insensitive synonym of name, with nulls
        "building": ["yes", "house", None],
        "floors": [5, 9, 2],  # synonym of levels, no nulls: renamed as a whole
        "height": [15.5, None, 1e20],
        "addr_full": [None, None, None],  # synonym of address, all null: stays under its own name
        "extra %s": [True, None, 3],  # mixed types, not in the theme
    }


def test_columnar_mapping_stores_the_same_json_as_the_per_row_path(
    columns_with_synonyms_nulls_and_awkward_text: dict[str, list[Any]],
) -> None:
    columns = {k: v for k, v in columns_with_synonyms_nulls_and_awkward_text.items() if k != "Назва"}
    mapped = map_columns(_mapper(), columns)
    assert mapped is not None
    documents, kinds = encode_rows(mapped, 3, ENCODER)
    assert [json.loads(d) for d in documents] == _per_row(columns)
    assert kinds["levels"] == {int} and "floors" not in kinds and "addr_full" in kinds


def test_synonym_column_with_some_nulls_takes_the_per_row_path(
    columns_with_synonyms_nulls_and_awkward_text: dict[str, list[Any]],
) -> None:
    # per row, a null keeps the source key ("Назва": null) while a value becomes "name": the columns differ by row
    assert map_columns(_mapper(), columns_with_synonyms_nulls_and_awkward_text) is None


def test_values_that_need_coercion_take_the_per_row_path() -> None:
    assert map_columns(_mapper(), {"levels": ["5", "five"]}) is None
    assert map_columns(_mapper(), {"height": [3, 4]}) is None  # integers become numbers (floats) per row


def test_exact_name_column_with_nulls_maps_whole() -> None:
    columns: dict[str, list[Any]] = {"name": ["Ратуша", None], "levels": [None, 3]}
    mapped = map_columns(_mapper(), columns)
    assert mapped is not None
    documents, _kinds = encode_rows(mapped, 2, ENCODER)
    assert (
        [json.loads(d) for d in documents]
        == _per_row(columns)
        == [{"name": "Ратуша", "levels": None}, {"name": None, "levels": 3}]
    )


def test_float32_columns_become_their_shortest_decimals() -> None:
    """The vector form agrees with numpy's own shortest repr of each float32, and every value reads back."""
    import numpy as np

    from ingest.mapping import shortest_float32_decimals

    rng = np.random.default_rng(7)
    samples = np.concatenate(
        [
            rng.uniform(-1e6, 1e6, 20_000),
            rng.uniform(0, 100, 20_000).round(1),
            rng.standard_normal(5_000) * 1e-5,
            [0.0, -0.0, 0.1, 1 / 3, 16_777_217, 3.4e38, 1e-30, 1e-45, np.nan, np.inf, -np.inf],
        ]
    ).astype(np.float32)
    result = shortest_float32_decimals(samples)
    finite = np.isfinite(samples)
    assert (result[finite].astype(np.float32) == samples[finite]).all()
    assert np.isnan(result[np.isnan(samples)]).all() and (result[np.isinf(samples)] == samples[np.isinf(samples)]).all()
    ordinary = finite & (np.abs(samples) > 1e-19) & (np.abs(samples) < 1e19)
    expected = [float(str(value)) for value in samples[ordinary]]
    assert result[ordinary].tolist() == expected
    assert shortest_float32_decimals(np.array([36.6, 507.4], dtype=np.float32)).tolist() == [36.6, 507.4]
