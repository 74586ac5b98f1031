"""Seeded synthetic entities for scale tests and benchmarks — never real, never in the public data.

Points are spread over the region's gminy in proportion to population (largest-remainder allocation,
so a gmina gets its share exactly) and drawn uniformly inside each gmina's polygon by rejection
sampling. Every row is marked three ways: the id starts with ``syn-``, the name with ``SYNTETYCZNY``
and the description says ``SYNTETYCZNY``; the geocoder column is ``synthetic``. No identifiers
(KRS, NIP, REGON), addresses, phones or web pages are generated: nothing that could be mistaken for,
or collide with, a real entity.

    from geoes.register.synthetic import generate, write_csv
    frame = generate(load_territory(settings), 100_000, seed=1)
    write_csv(frame, tmp_dir / "entities.csv")      # refuses the project's own data/ directory
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geoes.config import REPO_DIR
from geoes.errors import InvalidInput
from geoes.register.record import COLUMNS
from geoes.sources.territory import Territory

ID_PREFIX = "syn-"
MARK = "SYNTETYCZNY"
DESCRIPTION = f"{MARK}: podmiot wygenerowany do testów wydajności, nie istnieje"
GEOCODER = "synthetic"
# Rough shares of the register by type (NGOs dominate a national register); ~10 % carry two types.
TYPE_WEIGHTS = {
    "ngo": 0.46, "kgw": 0.18, "spoldzielnia_socjalna": 0.08, "wtz": 0.06, "cis": 0.04, "kis": 0.05,
    "zaz": 0.01, "spoldzielnia_pracy": 0.03, "spoldzielnia_inwalidow": 0.01, "spolka_non_profit": 0.04,
    "owes": 0.005, "inne": 0.035,
}
SECOND_TYPE_SHARE = 0.10
STATUS_WEIGHTS = {"active": 0.80, "unknown": 0.12, "inactive": 0.08}
EMPLOYEES_KNOWN_SHARE = 0.6
COORD_DECIMALS = 6
# Names made of words (`names="words"`): many alike names in one place, as an office register has them —
# the load the duplicate check must bear. The words are ordinary nouns and adjectives, no real entity's name.
NAME_KINDS = ("Stowarzyszenie", "Fundacja", "Spółdzielnia Socjalna", "Koło Gospodyń Wiejskich", "Klub",
              "Warsztat Terapii Zajęciowej", "Centrum Integracji Społecznej", "Towarzystwo")
NAME_WORDS = ("Zielona", "Dolina", "Jasna", "Przystań", "Nowa", "Droga", "Dobra", "Wola", "Słoneczna",
              "Łąka", "Razem", "Most", "Szansa", "Kwitnąca", "Lipa", "Stara", "Kuźnia", "Wspólny", "Dom",
              "Pogodna", "Ścieżka", "Srebrny", "Potok", "Otwarte", "Drzwi", "Bukowa", "Góra", "Czysta",
              "Woda", "Złoty", "Kłos", "Mocny", "Korzeń", "Cicha", "Przystanek", "Biała", "Sowa", "Wiosna",
              "Tęcza", "Ogród")


class SyntheticIntoDataDir(InvalidInput):
    """Refused: synthetic entities must never be written into the project's data/ directory."""


def allocate(population: np.ndarray, n: int) -> np.ndarray:
    """Split n among units in proportion to population (largest remainder; deterministic)."""
    pop = np.asarray(population, dtype=float)
    pop = np.where(np.isfinite(pop) & (pop > 0), pop, 0.0)
    if n <= 0 or pop.sum() == 0:
        return np.zeros(len(pop), dtype=np.int64)
    exact = pop / pop.sum() * n
    counts = np.floor(exact).astype(np.int64)
    rest = n - counts.sum()
    if rest:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:rest]] += 1
    return counts


def _points_in(geom, k: int, rng: np.random.Generator) -> np.ndarray:
    """k points uniform in lon/lat inside `geom` (EPSG:4326), already rounded as they will be stored.

    The containment test runs on the rounded coordinates, so the stored point is inside the polygon
    (not just the drawn one). Over a region the size of a voivodeship uniform in degrees differs from
    uniform in area by the change of cos(latitude), about 2 %: good enough for synthetic load.
    """
    shapely.prepare(geom)
    minx, miny, maxx, maxy = geom.bounds
    fill = max(shapely.area(geom) / ((maxx - minx) * (maxy - miny)), 0.05)
    out = np.empty((0, 2))
    while len(out) < k:
        m = int((k - len(out)) / fill * 1.2) + 16
        xs = np.round(rng.uniform(minx, maxx, m), COORD_DECIMALS)
        ys = np.round(rng.uniform(miny, maxy, m), COORD_DECIMALS)
        # Strictly inside: a point on a shared border would join to the lower-coded neighbour.
        inside = shapely.contains_xy(geom, xs, ys)
        out = np.vstack([out, np.column_stack([xs[inside], ys[inside]])])
    return out[:k]


def word_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` marked names of a kind and two or three words ("SYNTETYCZNY Fundacja Zielona Dolina"): many
    alike and some equal, like the names of one town's register."""
    kinds = np.array(NAME_KINDS)[rng.integers(0, len(NAME_KINDS), n)]
    words = np.array(NAME_WORDS)
    first, second, third = (words[rng.integers(0, len(words), n)] for _ in range(3))
    third = np.where(rng.random(n) < 0.5, " " + third, "")
    return np.char.add(np.char.add(np.char.add(np.char.add(f"{MARK} ", kinds), " "),
                                   np.char.add(np.char.add(first, " "), second)), third.astype(str))


def generate(territory: Territory, n: int, seed: int = 0, gminy: list[str] | None = None,
             names: str = "numbered") -> pd.DataFrame:
    """`n` synthetic entity records (all columns of the record, as strings) spread over `territory`.

    Deterministic for (territory, n, seed). Rows are grouped by gmina in TERYT order; `gmina_teryt` and
    `powiat_teryt` state the unit each point was drawn in. `gminy` (TERYT codes) puts every row into
    those gminy only (e.g. a whole register in Kielce); `names="words"` names the rows with words
    (`word_names`) instead of numbers.
    """
    rng = np.random.default_rng(seed)
    gminy_frame = territory.gminy if gminy is None else territory.gminy[territory.gminy["teryt"].isin(gminy)]
    gminy = gminy_frame.sort_values("teryt", ignore_index=True)
    counts = allocate(gminy["population"].astype("Float64").fillna(0).to_numpy(dtype=float), n)
    coords = [_points_in(geom, int(k), rng) for geom, k in zip(gminy.geometry, counts)]
    xy = np.vstack(coords) if coords else np.empty((0, 2))
    idx = np.repeat(np.arange(len(gminy)), counts)

    numbers = pd.Series(np.arange(n)).astype(str).str.zfill(max(7, len(str(n))))
    codes = np.array(list(TYPE_WEIGHTS))
    weights = np.array(list(TYPE_WEIGHTS.values()))
    weights = weights / weights.sum()
    first = rng.choice(len(codes), size=n, p=weights)
    second = rng.choice(len(codes), size=n, p=weights)
    two = (rng.random(n) < SECOND_TYPE_SHARE) & (second != first)
    types = pd.Series(codes[first])
    types[two] = types[two] + ";" + codes[second][two]
    statuses = rng.choice(list(STATUS_WEIGHTS), size=n, p=list(STATUS_WEIGHTS.values()))
    employees = rng.integers(0, 60, size=n).astype(str)
    employees = np.where(rng.random(n) < EMPLOYEES_KNOWN_SHARE, employees, "")
    social = rng.choice(["true", "false", "unknown"], size=n, p=[0.1, 0.3, 0.6])

    gmina_teryt = gminy["teryt"].to_numpy()[idx]
    frame = pd.DataFrame({c: np.full(n, "", dtype=object) for c in COLUMNS})
    frame["id"] = (ID_PREFIX + str(seed) + "-" + numbers).to_numpy()
    frame["name"] = word_names(n, rng) if names == "words" else (f"{MARK} podmiot " + numbers).to_numpy()
    frame["types"] = types.to_numpy()
    frame["social_enterprise"] = social
    frame["locality"] = gminy["name"].to_numpy()[idx]
    frame["gmina_teryt"] = gmina_teryt
    frame["powiat_teryt"] = gminy["powiat_teryt"].to_numpy()[idx]
    frame["lat"] = np.char.mod(f"%.{COORD_DECIMALS}f", xy[:, 1]) if n else []
    frame["lon"] = np.char.mod(f"%.{COORD_DECIMALS}f", xy[:, 0]) if n else []
    frame["location_precision"] = "address"
    frame["geocoder"] = GEOCODER
    frame["employees"] = employees
    frame["status"] = statuses
    frame["description"] = DESCRIPTION
    return frame[COLUMNS].astype(object)


def as_read_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as `geoes.register.record.read_table` would return it from a file (a `row` column, header = 1)."""
    out = frame.copy()
    out.insert(0, "row", range(2, len(out) + 2))
    return out


def is_synthetic(frame: pd.DataFrame) -> pd.Series:
    return frame["id"].astype(str).str.startswith(ID_PREFIX) & frame["description"].astype(str).str.contains(MARK)


def write_csv(frame: pd.DataFrame, path: Path | str, protected: Path | str | None = None) -> Path:
    """Write a synthetic record file; refuses any path inside the project's data/ (or `protected`)."""
    path = Path(path).resolve()
    for guard in (REPO_DIR / "data", protected):
        if guard is None:
            continue
        guard = Path(guard).resolve()
        if path == guard or guard in path.parents:
            raise SyntheticIntoDataDir(f"{path}: syntetyczne podmioty nie mogą trafić do {guard}")
    if not is_synthetic(frame).all():
        raise ValueError("write_csv writes only rows marked synthetic (id 'syn-', opis 'SYNTETYCZNY')")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.reindex(columns=COLUMNS).to_csv(path, index=False, lineterminator="\n")
    return path
