"""CQL2 filters cannot pin a worker: LIKE is matched in linear time (issue "Holding under attack"), and every
evaluation ends within GEOES_FILTER_TIME_LIMIT, with a 503 and a Polish description past it."""
from __future__ import annotations

import json
import re
import time
from urllib.parse import quote

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from geoes.publish.ogc import cql
from geoes.publish.ogc.crs import parse_crs

CRS84_DEF = parse_crs(None)

TYPES = {"name": "string", "description": "string"}
ATTACKS = ["description LIKE '%_%_%_%_%QQ'", "description LIKE '" + "%_" * 10 + "QQ'",
           "name LIKE '" + "%a" * 40 + "QQ'", "CASEI(description) LIKE '" + "%_" * 30 + "%q'"]


def reference(pattern: str, text: str, nocase: bool = False) -> bool:
    """The backtracking regular expression LIKE used to be: right, but exponential on hostile patterns."""
    out, escaped = [], False
    for ch in pattern:
        if escaped:
            out.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append({"%": ".*", "_": "."}.get(ch, re.escape(ch)))
    if escaped:
        out.append(re.escape("\\"))
    return re.fullmatch("".join(out), text, re.DOTALL | (re.IGNORECASE if nocase else 0)) is not None


@given(pattern=st.text(alphabet="%_\\aAbQ.*", max_size=12), text=st.text(alphabet="aAbQ.*\\\n", max_size=14),
       nocase=st.booleans())
@settings(max_examples=600, deadline=None)
def test_like_matches_what_the_regular_expression_matched(pattern, text, nocase):
    assert cql.LikePattern(pattern, nocase).match(text) == reference(pattern, text, nocase)


@pytest.mark.parametrize("pattern,text,expected", [
    ("%_%_%_%_%QQ", "a" * 5000, False), ("%_%_%_%_%QQ", "a" * 5000 + "QQ", True),
    ("%_" * 10 + "QQ", "x" * 20_000, False), ("%a" * 40 + "QQ", "a" * 20_000 + "Q", False),
    ("Spółdzielnia%", "Spółdzielnia Socjalna", True), ("%\\%%", "50% zniżki", True), ("%\\%%", "50 zł", False),
])
def test_hostile_patterns_are_linear(pattern, text, expected):
    start = time.perf_counter()
    assert cql.LikePattern(pattern).match(text) is expected
    # the backtracking expression took minutes on these; a generous bound, far from flaky
    assert time.perf_counter() - start < 1.0


def frame(rows: int, text: str) -> pd.DataFrame:
    return pd.DataFrame({"name": [f"Podmiot {i}" for i in range(rows)], "description": [text] * rows})


@given(expression=st.builds(lambda parts, tail: "description LIKE '" + "".join(parts) + tail + "'",
                            st.lists(st.sampled_from(["%", "_", "%_", "a", "Q", "\\%"]), max_size=40),
                            st.sampled_from(["", "QQ", "%", "_"])))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_like_filter_ends_within_its_budget(expression):
    data = frame(2000, "a" * 300)
    flt = cql.parse(expression, TYPES, CRS84_DEF, time_limit=0.5)
    start = time.perf_counter()
    try:
        flt.mask(data)
    except cql.FilterTooCostly:
        pass
    assert time.perf_counter() - start < 0.5 + 1.5  # the budget and a check's worth of rows past it


def test_budget_past_the_limit_is_503_with_a_polish_reason():
    data = frame(50_000, "a" * 2000)
    flt = cql.parse("description LIKE '" + "%a_" * 600 + "Q'", TYPES, CRS84_DEF, time_limit=0.05)
    with pytest.raises(cql.FilterTooCostly) as caught:
        flt.mask(data)
    assert caught.value.http_status == 503
    assert "limit czasu" in caught.value.description and "0.05 s" in caught.value.description


@pytest.mark.parametrize("expression", ATTACKS)
def test_attack_requests_answer_and_the_site_keeps_answering(geo_client, geo_dataset, expression):
    r = geo_client.get(f"/ogc/collections/entities/items?filter={quote(expression)}")
    assert r.status_code in (200, 503), r.data[:200]
    doc = json.loads(r.data)
    if r.status_code == 200:
        texts = geo_dataset.entities["description"].fillna("")
        like = cql.LikePattern(expression.split("LIKE '")[1][:-1], expression.startswith("CASEI"))
        assert doc["numberMatched"] == sum(like.match(t) for t in texts)
    else:
        assert doc["code"] == "ServiceUnavailable" and "limit czasu" in doc["description"]
    assert geo_client.get("/ogc/collections/entities/items?limit=1").status_code == 200


def test_time_limit_is_a_setting(geo_settings):
    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(geo_settings.data_dir),
                      "GEOES_FILTER_TIME_LIMIT": "0.000001"})
    r = app.test_client().get("/ogc/collections/entities/items?filter=" + quote("name LIKE '%a%'"))
    assert r.status_code == 503 and "limit czasu" in r.get_json()["description"]
