"""The ESSGlobal standard CSV: the register as the solidarity-economy aggregators take it (the Solidarity
Economy Association's / Digital Commons' open-data pipeline behind Mykomap, the maps of Co-ops UK, ICA and
others), at /api/essglobal.csv and `python -m geoes export --format essglobal`.

* The columns are the standard's 25 (`sse_initiatives`, as every output of SEA's open-data repository has
  them: geoes/reference/essglobal.json), in its order, then geoes's own: `Legal Form`, `KRS`, `NIP`,
  `REGON` (the registry numbers — the standard's only registry column is the UK `Companies House
  Number`) and `Status` (active / inactive / unknown: the standard has no status, and an aggregator must
  not show a closed entity as working).
* One row per entity of the (filtered) published layer. `Identifier` is the entity's stable `id` (a valid
  URI segment and file name, as the standard asks).
* `Organisational Structure`, `Qualifiers`, `Primary Activity`, `Activities` are term URIs of the ESSGlobal
  2.1 vocabularies (`https://lod.coop/essglobal/2.1/standard/organisational-structure/OS60`…), from the
  entity's types by geoes/reference/essglobal_types.csv: the first type gives the structure, every type
  its qualifiers and activities (`;` between several, as the standard separates sub-fields).
* Coordinates as the standard defines them: `Latitude`/`Longitude` only for an exact location (precision
  `address`); a point placed from the street, the locality or the gmina is the location of what contains
  the address, so it goes to `Geo Container Latitude`/`Longitude` (the way SEA's own converters write a
  geocoded address). No point, no coordinates. 6 decimals.
* `Description` is an HTML fragment in the standard: the register's plain text, escaped. `Country ID` is
  `PL`, `Region` the voivodeship, `Website` only an http(s) address.
* Only the published layer's own fields are read (geoes.publish.serialise.published), each by name:
  nothing internal can reach the file. Text cells that a spreadsheet would run as a formula are
  neutralised as in every CSV. UTF-8 without a BOM (the pipeline's CSV reader takes the first header as
  is), comma, CRLF.
"""
from __future__ import annotations

import html
import io

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoes.common.excel import neutralise_frame
from geoes.common.reference import essglobal, essglobal_types
from geoes.publish.escape import safe_url
from geoes.publish.serialise import COORDINATE_DECIMALS, published
from geoes.register.record import TYPES_SEPARATOR

EXTRA_COLUMNS = ("Legal Form", "KRS", "NIP", "REGON", "Status")
COUNTRY = "PL"
EXACT_PRECISIONS = ("address",)
SUBFIELD_SEPARATOR = ";"


def columns() -> list[str]:
    return [*essglobal()["columns"], *EXTRA_COLUMNS]


def term_uri(vocabulary: str, term: str) -> str:
    return f"{essglobal()['vocabulary_base']}{vocabulary}/{term}" if term else ""


def describe_types(types: str) -> tuple[str, str, str, str]:
    """(Organisational Structure, Qualifiers, Primary Activity, Activities) of a `types` value (`cis;wtz`)."""
    known = essglobal_types()
    rows = [known[t] for t in str(types or "").split(TYPES_SEPARATOR) if t in known]
    structure = next((r.organisational_structure for r in rows if r.organisational_structure), "")
    qualifiers = list(dict.fromkeys(q for r in rows for q in r.qualifiers))
    activities = list(dict.fromkeys(r.primary_activity for r in rows if r.primary_activity))
    return (term_uri("organisational-structure", structure),
            SUBFIELD_SEPARATOR.join(term_uri("qualifiers", q) for q in qualifiers),
            term_uri("activities-ica", activities[0]) if activities else "",
            SUBFIELD_SEPARATOR.join(term_uri("activities-ica", a) for a in activities[1:]))


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[name].astype(object).where(frame[name].notna(), "").astype(str)


def essglobal_table(frame: gpd.GeoDataFrame, region: str) -> pd.DataFrame:
    """The entity layer (`frame`, any rows of it) as the standard's table; `region` the voivodeship name."""
    layer = published(frame)
    idx = layer.index
    described = {t: describe_types(t) for t in _text(layer, "types").unique()}
    parts = _text(layer, "types").map(described)
    geoms = layer.geometry.to_numpy()
    has_point = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    lon, lat = np.full(len(layer), np.nan), np.full(len(layer), np.nan)
    lon[has_point], lat[has_point] = shapely.get_x(geoms[has_point]), shapely.get_y(geoms[has_point])
    lon, lat = np.round(lon, COORDINATE_DECIMALS), np.round(lat, COORDINATE_DECIMALS)
    exact = _text(layer, "location_precision").isin(EXACT_PRECISIONS).to_numpy()
    empty = pd.Series("", index=idx, dtype=object)
    table = pd.DataFrame({
        "Identifier": _text(layer, "id"),
        "Name": _text(layer, "name"),
        "Description": _text(layer, "description").map(lambda s: html.escape(s, quote=False)),
        "Organisational Structure": parts.map(lambda p: p[0]),
        "Primary Activity": parts.map(lambda p: p[2]),
        "Activities": parts.map(lambda p: p[3]),
        "Street Address": _text(layer, "street"),
        "Locality": _text(layer, "locality"),
        "Region": pd.Series(region, index=idx, dtype=object),
        "Postcode": _text(layer, "postal_code"),
        "Country ID": pd.Series(COUNTRY, index=idx, dtype=object),
        "Territory ID": empty,
        "Website": _text(layer, "website").map(lambda u: safe_url(u) or ""),
        "Phone": _text(layer, "phone"),
        "Email": _text(layer, "email"),
        "Twitter": empty,
        "Facebook": empty,
        "Companies House Number": empty,
        "Qualifiers": parts.map(lambda p: p[1]),
        "Membership Type": empty,
        "Latitude": np.where(exact, lat, np.nan),
        "Longitude": np.where(exact, lon, np.nan),
        "Geo Container": empty,
        "Geo Container Latitude": np.where(exact, np.nan, lat),
        "Geo Container Longitude": np.where(exact, np.nan, lon),
        "Legal Form": _text(layer, "legal_form"),
        "KRS": _text(layer, "krs"),
        "NIP": _text(layer, "nip"),
        "REGON": _text(layer, "regon"),
        "Status": _text(layer, "status"),
    }, index=idx)
    return table[columns()].reset_index(drop=True)


def to_csv(table: pd.DataFrame) -> bytes:
    """The table as the standard CSV: UTF-8 without BOM, comma, CRLF, formula cells neutralised."""
    buf = io.StringIO()
    neutralise_frame(table).to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue().encode("utf-8")
