"""The synthetic generator: seeded, marked, placed inside the gmina it was drawn for, and valid."""
import numpy as np
import pandas as pd
import pytest
import shapely

from geoes.config import REPO_DIR
from geoes.register.record import COLUMNS, read_table
from geoes.dataset.join import entities_to_points, join_gminy
from geoes.register.synthetic import (DESCRIPTION, MARK, SyntheticIntoDataDir, allocate, as_read_table, generate,
                             is_synthetic, write_csv)
from geoes.sources.territory import load_territory
from geoes.register.validate import validate_frame

N = 3_000


@pytest.fixture(scope="module")
def territory(fetched_settings):
    return load_territory(fetched_settings)


@pytest.fixture(scope="module")
def frame(territory):
    return generate(territory, N, seed=42)


def test_deterministic_for_a_seed(territory, frame):
    pd.testing.assert_frame_equal(frame, generate(territory, N, seed=42))
    other = generate(territory, N, seed=43)
    assert not frame[["lat", "lon"]].equals(other[["lat", "lon"]])
    assert list(frame.columns) == COLUMNS and len(frame) == N


def test_every_row_marked_synthetic(frame):
    assert frame["id"].str.startswith("syn-").all()
    assert frame["id"].is_unique
    assert frame["name"].str.contains(MARK).all()
    assert (frame["description"] == DESCRIPTION).all() and MARK in DESCRIPTION
    assert (frame["geocoder"] == "synthetic").all()
    assert is_synthetic(frame).all()
    # Nothing that could pass for a real entity's identity or contact.
    for col in ("krs", "nip", "regon", "street", "website", "email", "phone", "sources"):
        assert (frame[col] == "").all(), col


def test_every_point_inside_the_gmina_it_was_drawn_for(territory, frame):
    gminy = territory.gminy.set_index("teryt")
    lon, lat = frame["lon"].astype(float).to_numpy(), frame["lat"].astype(float).to_numpy()
    for teryt, rows in frame.groupby("gmina_teryt").groups.items():
        geom = gminy.loc[teryt, "geometry"]
        pos = frame.index.get_indexer(rows)
        assert shapely.contains_xy(geom, lon[pos], lat[pos]).all(), teryt
    assert (frame["powiat_teryt"] == frame["gmina_teryt"].map(gminy["powiat_teryt"])).all()
    # And the project's own join agrees, row by row.
    valid, _ = validate_frame(as_read_table(frame), units=territory)
    joined = join_gminy(entities_to_points(valid), territory.gminy)
    assert (joined["gmina_teryt_computed"] == joined["gmina_teryt"]).all()
    assert not joined["gmina_mismatch"].any() and not joined["outside_region"].any()


def test_spread_in_proportion_to_population(territory, frame):
    pop = territory.gminy.set_index("teryt")["population"].astype(float)
    counts = frame["gmina_teryt"].value_counts().reindex(pop.index, fill_value=0)
    expected = pop / pop.sum() * N
    assert counts.sum() == N
    assert (np.abs(counts - expected) < 1).all()
    assert list(allocate(np.array([1, 1, 2]), 5)) == [1, 1, 3]


def test_passes_validation_and_reads_back(territory, frame, tmp_path):
    valid, rejects = validate_frame(as_read_table(frame), units=territory)
    assert rejects.empty, rejects.head().to_dict("records")
    assert len(valid) == N
    path = write_csv(frame, tmp_path / "entities.csv")
    valid2, rejects2 = validate_frame(read_table(path), units=territory, source_name=str(path))
    assert rejects2.empty and len(valid2) == N


def test_never_written_into_the_project_data_dir(frame, tmp_path):
    with pytest.raises(SyntheticIntoDataDir):
        write_csv(frame.head(3), REPO_DIR / "data" / "entities.csv")
    with pytest.raises(SyntheticIntoDataDir):
        write_csv(frame.head(3), tmp_path / "x.csv", protected=tmp_path)
    real_looking = frame.head(3).assign(id="swk-999")
    with pytest.raises(ValueError):
        write_csv(real_looking, tmp_path / "elsewhere" / "e.csv")
