"""The county report: `python -m geoes report --powiat 2602 -o FILE.html|.pdf`."""
from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from geoes.common import dictionary
from geoes.publish import report
from geoes.cli import main
from geoes.cli.report import report_command
from geoes.common.polish import ratio

if "report" not in main.commands:  # geoes/cli.py registers it; keep the tests independent of that wiring
    main.add_command(report_command)

# Key figures of the report that must equal `stats --powiat 2602 --format json`.
KEYS = [
    "population", "area_km2", "entities", "entities_per_10k", "entities_per_100km2", "employees",
    "employees_per_10k", "gminy_with_entity", "gminy_total", "gmina_coverage_pct", "population_coverage_pct",
    "access_10km_pct",
]


class _Tables(HTMLParser):
    """Cells of every table by id, the data-key cells, img sources and script/link/style tags."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.keyed: list[tuple[str, str, str, str]] = []  # (tag, key, data-value, text)
        self.imgs: list[dict] = []
        self.tags: list[tuple[str, dict]] = []
        self.lang = None
        self._table = None
        self._cell = None
        self._keyed = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "table":
            self._table = a.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table and self.tables[self._table]:
            self._cell = []
        if tag == "img":
            self.imgs.append(a)
        if "data-key" in a:
            self._keyed = [tag, a["data-key"], a.get("data-value", ""), []]
            self._depth = 0
        elif self._keyed is not None and tag == self._keyed[0]:
            self._depth += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append(re.sub(r"[ \t\r\n]+", " ", "".join(self._cell)).strip())
            self._cell = None
        if tag == "table":
            self._table = None
        if self._keyed is not None and tag == self._keyed[0]:
            if self._depth == 0:
                t, k, v, text = self._keyed
                self.keyed.append((t, k, v, "".join(text)))
                self._keyed = None
            else:
                self._depth -= 1

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._keyed is not None:
            self._keyed[3].append(data)


def _parse(html: str) -> _Tables:
    p = _Tables()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def stats_2602(built_settings):
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--data-dir", str(built_settings.data_dir), "stats", "--powiat", "2602",
                                       "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.output)
    return record


@pytest.fixture(scope="module")
def report_2602(built_settings, tmp_path_factory):
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("report") / "raport_2602.html"
    result = CliRunner().invoke(main, ["--data-dir", str(built_settings.data_dir), "report", "--powiat", "2602",
                                       "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Zapisano raport" in result.output
    return out.read_text(encoding="utf-8")


def test_report_key_figures_equal_stats(report_2602, stats_2602, built_settings):
    from geoes.dataset.reader import load_current

    parsed = _parse(report_2602)
    indicators = {k: (v, text) for tag, k, v, text in parsed.keyed if tag == "td"}
    for key in KEYS:
        assert key in indicators, f"{key} missing from the indicator table"
        value, text = indicators[key]
        if stats_2602[key] is None:  # left out by the small-number rules: empty, with the reason
            assert value == "" and text.strip() == "za mało danych", key
            continue
        assert float(value) == pytest.approx(float(stats_2602[key]), abs=1e-9), key
        assert text.strip() == report.figure(stats_2602[key], key, unit=True), key
    # The same formatted figures are in the key-figure block at the top.
    top = {k: text for tag, k, v, text in parsed.keyed if tag == "dd"}
    for key in ("population", "entities", "gmina_coverage_pct", "access_10km_pct", "population_coverage_pct"):
        assert top[key].startswith(report.figure(stats_2602[key], key, unit=True)), key
    assert top["gminy_with_entity"].startswith(
        f"{report.figure(stats_2602['gminy_with_entity'])} z {report.figure(stats_2602['gminy_total'])}")
    # Ranks (ties as ranges, among the powiaty that have the value) and ratios as the indicator table shows
    # them; a left-out one says why — never a place or a multiple built on nothing.
    from geoes.dataset import figures

    rows = {r[0]: r for r in parsed.tables["indicators"][1:]}
    ds = load_current(built_settings)
    labels = {k: dictionary.label(k, "units", "powiat") for k in report.RANKED}  # as the files for people
    for key in (k for k in report.RANKED if labels[k] in rows):
        label = labels[key]
        if stats_2602[key] is None:
            assert rows[label][3] == "–" and rows[label][4] == "–", key
            continue
        assert rows[label][3] == figures.rank_text(stats_2602, key, figures.ranked_count(ds.powiaty, key)), key
        if stats_2602.get("ratio_" + key) is not None:
            assert rows[label][4] == ratio(stats_2602["ratio_" + key]), key
        elif key in figures.RELATED:
            assert rows[label][4] in ("za mało danych", "brak danych", "brak podmiotu w rejestrze"), key


def test_report_known_figures_for_jedrzejowski(report_2602):
    # Powiat jędrzejowski: 9 gminy, 80 370 inhabitants (GUS 2024), 1 256,79 km² (official area).
    assert "Powiat jędrzejowski" in report_2602
    assert "1\u00a0256,79\u00a0km²" in report_2602
    assert "80\u00a0370" in report_2602
    white = _parse(report_2602).tables["white-spots"]
    names = [r[0] for r in white[1:]]
    assert "Jędrzejów" not in names and "Sędziszów" in names
    assert len(_parse(report_2602).tables["gminy"]) - 1 == 9


def test_report_sections_method_sources_completeness(report_2602):
    for text in ("Wnioski z danych", "(białe plamy)", "Kompletność rejestru", "Metoda", "Źródła i atrybucja",
                 "Granice: GUGiK PRG; ludność: GUS BDL 2024; miejscowości: PRNG", "EPSG:2180", "10 km",
                 "WTZ", "z 26"):
        assert text in report_2602, text


def test_report_is_self_contained(report_2602):
    parsed = _parse(report_2602)
    assert parsed.lang == "pl"
    assert len(parsed.imgs) >= 9  # a ranking chart with too few units that have a value is left out
    for img in parsed.imgs:
        src = img["src"]
        assert src.startswith("data:image/png;base64,"), src[:60]
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        assert img.get("alt"), "every image has a text alternative"
    for tag, attrs in parsed.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed"), tag
        if tag in ("img", "source", "video", "audio"):
            assert not attrs.get("src", "").startswith(("http:", "https:", "//"))
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", report_2602)


def test_report_escapes_entity_text(built_settings):
    from geoes.dataset.reader import load_current

    ds = load_current(built_settings)
    idx = ds.entities.index[ds.entities["powiat_teryt_computed"] == "2602"][0]
    ds.entities.loc[idx, "name"] = '<script>alert("x")</script> & <b>Spółdzielnia</b>'
    ds.entities.loc[idx, "locality"] = "<img src=x onerror=alert(1)>"
    ds.entities.loc[idx, "sources"] = "javascript:alert(1) | https://example.org/a?b=1&c=<2>"
    html = report.render_html(ds, "2602")
    assert "<script>" not in html and "<b>Spółdzielnia" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    assert 'href="javascript:' not in html
    assert "javascript:alert(1)" in html  # shown as text, not as a link


def test_report_unknown_powiat_exits_2(runner, built_settings, tmp_path):
    out = tmp_path / "x.html"
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--data-dir", str(built_settings.data_dir), "report", "--powiat", "9999",
                                       "-o", str(out)])
    assert result.exit_code == 2
    assert "nieznany powiat" in result.output and "Traceback" not in result.output
    assert not out.exists()
    with pytest.raises(report.UnknownPowiat):
        from geoes.dataset.reader import load_current

        report.render_html(load_current(built_settings), "9999")


def test_report_without_build_exits_2(fetched_settings, tmp_path):
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--data-dir", str(fetched_settings.data_dir), "report", "--powiat", "2602",
                                       "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert "Błąd" in result.output and "Traceback" not in result.output


def test_findings_are_computed(built_settings, stats_2602):
    from geoes.dataset.reader import load_current

    found = report.findings(load_current(built_settings), "2602")
    joined = " ".join(found)
    assert report.figure(stats_2602["entities_per_10k"], "entities_per_10k") in joined
    assert report.figure(stats_2602["access_10km_pct"], "access_10km_pct", unit=True) in joined
    assert f"miejsce {stats_2602['rank_entities_per_10k']} z " in joined


def test_other_county_and_city_county(built_settings):
    from geoes.dataset.reader import load_current

    ds = load_current(built_settings)
    html = report.render_html(ds, "2661")
    assert "Kielce (miasto na prawach powiatu)" in html
    assert "brak białych plam" in html or "co najmniej jeden podmiot" in html


def test_figures_in_polish():
    assert report.figure(80370) == "80\u00a0370"
    assert report.figure(1256.79, "area_km2", unit=True) == "1\u00a0256,79\u00a0km²"
    assert report.figure(41.4, "access_10km_pct", unit=True) == "41,4\u00a0%"
    assert report.figure(41.0, "access_10km_pct", unit=True) == "41,0\u00a0%"  # the indicator's decimals
    assert report.figure(0.124, "entities_per_10k") == "0,124"
    assert report.figure(None) == "–" and report.figure(float("nan")) == "–"


@pytest.mark.slow
def test_report_pdf(built_settings, tmp_path):
    if report.chromium_path() is None:
        pytest.skip("no Chromium (scripts/setup.sh installs it)")
    from click.testing import CliRunner

    out = tmp_path / "raport.pdf"
    result = CliRunner().invoke(main, ["--data-dir", str(built_settings.data_dir), "report", "--powiat", "2602",
                                       "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 50_000
    pdf = PdfReader(io.BytesIO(data))
    pages = [re.sub(r"\s+", " ", page.extract_text()) for page in pdf.pages]
    # A county report a planner attaches as it is: A4, at most 12 pages, numbered.
    assert len(pages) <= 12, len(pages)
    for page in pdf.pages:
        assert round(float(page.mediabox.width)) == 595 and round(float(page.mediabox.height)) == 842  # A4
    for n, text in enumerate(pages, start=1):
        assert f"Strona {n} z {len(pages)}" in text, n
    text = " ".join(pages)
    assert "Spis treści" in pages[0] and "Powiaty województwa" in pages[0]
    # The completeness statement once, in the text (the charts no longer repeat it in small print).
    assert text.count("WTZ: w rejestrze 22 z 26 znanych") == 1
    assert "Znany rejestr, nie wszystkie podmioty. W rejestrze wobec" not in text


def test_report_tables_cite_sources_and_urls_wrap_at_seams(report_2602):
    """Long source addresses do not stretch the entity table: it cites [n], the list under it gives the
    address, which may wrap only after / . - _ ? & = #."""
    entities = _parse(report_2602).tables["entities"]
    for row in entities[1:]:
        assert re.fullmatch(r"(\[\d+\] ?)*", row[-1]), row[-1]
    listed = re.findall(r'<a class="url" href="([^"]+)"[^>]*>(.*?)</a>', report_2602)
    assert listed
    for href, shown in listed:
        assert shown.replace("<wbr>", "") == href.replace("&amp;", "&").replace("&", "&amp;")
        for piece in shown.split("<wbr>")[:-1]:
            assert piece[-1:] in "/.-_?&=#" or piece.endswith("&amp;"), piece
    assert report.breakable("https://a.pl/x-y?b=1&c=<2>") == \
        "https://<wbr>a.<wbr>pl/<wbr>x-<wbr>y?<wbr>b=<wbr>1&amp;<wbr>c=<wbr>&lt;2&gt;"
    assert report.css_string('Powiat "x"; </style>') == "Powiat \\000022x\\000022\\00003b \\00003c\\00002fstyle\\00003e"
