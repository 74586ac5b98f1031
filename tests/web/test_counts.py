"""One count, one definition (issue 20): every figure of entities on the county page agrees with every other
one, or its label says which subset it is — and all of them agree with the entity layer itself (counted
here from the served entities, not from the indicators). Nothing of unknown status is called active.

The page is read as a person reads it: the cards, the indicator table, the table by type, the
completeness list, the table of gminy and the list of entities, each parsed from the HTML.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from geoes.common.reference import entity_types
from geoes.dataset.reader import load_current

NBSP = "\u00a0"
TERYT = "2602"


class _Page(HTMLParser):
    """Tables by caption (rows of cell texts, <tfoot> rows too) and the text of elements by class."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.by_class: dict[str, list[str]] = {}
        self._rows: list[list[str]] | None = None
        self._caption: list[str] | None = None
        self._cell: list[str] | None = None
        self._open: list[tuple[str, str, list[str]]] = []   # (tag, class, text) of watched elements

    WATCHED = ("status-split", "map-subset", "list-count", "verified-note", "completeness-list", "register-count")

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class") or ""
        for name in cls.split():
            if name in self.WATCHED:
                self._open.append((tag, name, []))
        if tag == "table":
            self._rows, self._caption = [], []
        elif tag == "caption" and self._rows is not None:
            self._cell = self._caption
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None and self._rows:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "caption":
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[re.sub(r"\s+", " ", "".join(self._caption)).strip()] = self._rows
            self._rows = None
        if self._open and self._open[-1][0] == tag:
            _tag, name, text = self._open.pop()
            self.by_class.setdefault(name, []).append(re.sub(r"\s+", " ", "".join(text)).strip())

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        for _tag, _name, text in self._open:
            text.append(data)


def _parse(body: str) -> _Page:
    page = _Page()
    page.feed(body)
    return page


def _text(body: str) -> str:
    """The page's words (a figure's <data> element is part of its word: "0," not "0 ,")."""
    body = re.sub(r"</?data\b[^>]*>", "", body)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _int(text: str) -> int:
    return int(re.sub(r"[\s\u00a0]", "", text))


def _table(page: _Page, starts: str) -> list[list[str]]:
    [rows] = [rows for caption, rows in page.tables.items() if caption.startswith(starts)]
    return rows


@pytest.fixture(scope="module")
def county(app):
    body = app.test_client().get(f"/powiaty/{TERYT}").get_data(as_text=True)
    return body, _parse(body)


@pytest.fixture(scope="module")
def truth(built_settings):
    """The county's entities counted straight from the served entity layer."""
    ds = load_current(built_settings)
    e = ds.entities[ds.entities["powiat_teryt_computed"] == TERYT]
    point = ~(e.geometry.isna() | e.geometry.is_empty)
    listed = e[point | e["location_precision"].eq("powiat")]
    open_ = listed[listed["status"] != "inactive"]
    by_type = {code: int(open_["types"].str.split(";").map(lambda t, c=code: c in t).sum()) for code in entity_types()}
    v = ds.entities[~ds.entities["outside_region"] & ds.entities["status"].ne("inactive")]
    v_by_type = {code: int(v["types"].str.split(";").map(lambda t, c=code: c in t).sum()) for code in entity_types()}
    return {
        "in_register": len(open_), "listed": len(listed), "closed": int((listed["status"] == "inactive").sum()),
        "active": int((open_["status"] == "active").sum()), "unknown": int((open_["status"] == "unknown").sum()),
        "with_point": int((~(open_.geometry.isna() | open_.geometry.is_empty)).sum()),
        "powiat_only": int(open_["location_precision"].eq("powiat").sum()), "by_type": by_type,
        "v_by_type": v_by_type, "v_in_register": len(v),
    }


def test_every_count_on_the_county_page_agrees(county, truth):
    body, page = county
    n = truth["in_register"]
    assert n > 0
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    # The card: the count, its status split, the subset on the map.
    card = re.search(r'<ul class="cards".*?<li>(.*?)</li>', body, re.S).group(1)
    assert _int(re.search(r'<span class="big"><data value="(\d+)"', card).group(1)) == n
    [split] = page.by_class["status-split"]
    assert split == (f"status potwierdzony: {truth['active']}, nieznany: {truth['unknown']}, "
                     f"zamknięte: {truth['closed']}")
    assert truth["active"] + truth["unknown"] == n
    [subset] = page.by_class["map-subset"]
    without = n - truth["with_point"]
    assert subset.startswith(f"na mapie: {truth['with_point']} z {n} w rejestrze"), subset
    assert (f"; {without} bez punktu" in subset) == bool(without), subset
    assert without == truth["powiat_only"]            # in this county, the ones without a point are powiat-only
    # The meta description and the indicator table say the same number.
    assert re.search(rf'<meta name="description" content="[^"]*: {n}{NBSP}podmiot\w* ekonomii społecznej w rejestrze',
                     body)
    indicators = {r[0]: r for r in _table(page, "Podaż:")}
    assert _int(indicators["Podmioty w rejestrze"][1]) == n
    # "Podmioty zweryfikowane … (wszystkie w rejestrze: N)".
    [verified] = page.by_class["verified-note"]
    assert f"(wszystkie w rejestrze: {n})" in verified
    # The gminy: their sum plus the entities with no known gmina.
    gminy = _table(page, "Gminy: ludność, podmioty w rejestrze")
    body_rows = [r for r in gminy[1:] if r[0] not in ("Razem gminy", "Bez znanej gminy")]
    total = {r[0]: r for r in gminy if r[0] in ("Razem gminy", "Bez znanej gminy")}
    assert sum(_int(r[3]) for r in body_rows) == _int(total["Razem gminy"][3]) == truth["with_point"]
    assert _int(total["Bez znanej gminy"][3]) == truth["powiat_only"]
    # The list of entities: its length, and which of them the register counts.
    [listed] = page.by_class["list-count"]
    assert listed.startswith(f"Na liście: {truth['listed']} podmiot") and f"– {n} w rejestrze" in listed
    entities = _table(page, "Podmioty z siedzibą w powiecie")[1:]
    assert len(entities) == truth["listed"]
    assert sum(1 for r in entities if r[6] != "zamknięty") == n
    # The method text on the page says which statuses are counted.
    method = re.sub(r"\s+", " ", text)
    assert "Co jest liczone: Podmioty w rejestrze: o statusie potwierdzonym" in method
    assert "zamknięte nie są liczone" in method
    words = re.sub(r"aktywności zawodowej", "", text.lower())
    assert "aktywn" not in words and "działając" not in words


def test_the_table_by_type_and_the_completeness_list_count_the_same(county, truth):
    body, page = county
    rows = {r[0]: r for r in _table(page, "Podmioty w rejestrze według typu")[1:]}
    labels = {t.label_pl: code for code, t in entity_types().items()}
    items = re.search(r'<ul class="completeness-list">(.*?)</ul>', body, re.S).group(1)
    completeness = {name.strip(): int(n) for name, n in re.findall(r"<li>([^<:]+): w rejestrze (\d+)", items)}
    assert rows, page.tables.keys()
    for label, (_, here, region) in rows.items():
        code = labels[label.strip()]
        assert _int(here) == truth["by_type"][code], label
        assert _int(region) == truth["v_by_type"][code], label
        # The county page's table by type and the completeness note above it: one number per type.
        assert completeness[entity_types()[code].short_pl] == _int(region), label
    assert sum(truth["by_type"].values()) >= truth["in_register"]      # an entity of two types counts in both


def test_the_voivodeship_figures_on_the_map_and_the_about_page(client, built_settings):
    v = load_current(built_settings).voivodeship
    for url in ("/", "/about"):
        text = _text(client.get(url).get_data(as_text=True)).replace(NBSP, " ")
        assert f"na mapie: {v['entities_with_point']} z {v['entities']} w rejestrze" in text, url
        assert (f"status potwierdzony: {v['entities_status_active']}, nieznany: {v['entities_status_unknown']}, "
                f"zamknięte: {v['entities_status_inactive']}") in text, url


PUBLIC = ["/", "/powiaty", f"/powiaty/{TERYT}", "/gminy/2602023", "/gminy/2602093", f"/powiaty/{TERYT}/raport.html",
          "/about", "/trendy", "/entities", "/entities/swk-005", "/compare?teryt=2602&teryt=2601",
          "/ogc/collections/entities", "/ogc/collections/powiaty/queryables"]


@pytest.mark.parametrize("url", PUBLIC)
def test_nothing_of_unknown_status_is_called_active(client, built_settings, url):
    """With the real register (every status unknown), no page calls an entity or a count active. Words in
    „…” are others' words — a proper name ("Aktywne Kobiety Gnieździsk"), an official source's wording of its
    own figure ("Zakłady aktywności zawodowej działające") — and so are the official figures on /trendy."""
    ds = load_current(built_settings)
    assert set(ds.entities["status"]) == {"unknown"}, "the real register knows no status: the premise of this test"
    body = client.get(url).get_data(as_text=True)
    if url == "/trendy":
        body = body[body.index('id="rejestr"'):]       # the register's own history (official figures above)
    text = re.sub(r"„[^”]*”", " ", _text(body)).lower()
    for word in ("aktywn", "działając", "dzialajac"):
        hits = [m.group(0) for m in re.finditer(rf"\b{word}\w*", text)
                if "aktywności zawodowej" not in text[m.start():m.end() + 20]]
        assert not hits, (url, hits)
