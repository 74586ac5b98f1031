"""The county report printed: its HTML in headless Chromium with print media at the width of an A4 page's
printable area — nothing wider than the page, no table or figure that scrolls (a scrollbar printed into a
PDF hides the columns behind it)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# A4 is 210 mm wide; the report's @page leaves 14 mm each side: 182 mm of CSS pixels (96 per inch).
PRINT_WIDTH = round(182 / 25.4 * 96)

OVERFLOW = """width => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > width + 1 || r.left < -1) out.push(`${el.tagName}#${el.id}.${el.className}: ${Math.round(r.left)}–${Math.round(r.right)}`);
  }
  return out.slice(0, 10);
}"""
SCROLLING = """() => [...document.querySelectorAll('table, figure, img, .wide')]
  .filter(el => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1 && el.tagName !== 'IMG')
  .filter(el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX) || el.scrollWidth > el.clientWidth + 1)
  .map(el => `${el.tagName}#${el.id}.${el.className}: ${el.scrollWidth}/${el.clientWidth}`)"""


@pytest.mark.parametrize("teryt", ["2602", "2661"])
def test_report_fits_an_a4_page_in_print(server, open_page, teryt):
    p = open_page(PRINT_WIDTH, 1100)
    pg = p.page
    pg.emulate_media(media="print")
    pg.goto(f"{server.url}/powiaty/{teryt}/raport.html")
    assert pg.evaluate("document.documentElement.scrollWidth") <= PRINT_WIDTH
    assert pg.evaluate(OVERFLOW, PRINT_WIDTH) == []
    assert pg.evaluate(SCROLLING) == []
    # Wide regions scroll on a phone's screen, never on paper.
    assert set(pg.evaluate("[...document.querySelectorAll('.wide')].map(e => getComputedStyle(e).overflowX)")) \
        == {"visible"}
    # Charts keep their natural size: a chart is never stretched past it (labels stay 8 pt).
    sizes = pg.evaluate("[...document.querySelectorAll('figure img')].map(i => [i.clientWidth, i.naturalWidth,"
                        " +i.getAttribute('width')])")
    assert sizes and all(shown <= declared + 1 for shown, _natural, declared in sizes)
    assert p.errors == [], p.errors
