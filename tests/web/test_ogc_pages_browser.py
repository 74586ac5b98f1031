"""The OGC API's HTML pages as a reader sees them, in headless Chromium (tests/web/conftest.py): on a phone
and on a desktop no word in a table cell is broken across two lines (only URLs and CRS URIs, marked
`.url`/`.uri`, may wrap anywhere; a long table scrolls in its region instead), and the skip link is off
the screen until the keyboard reaches it."""
from __future__ import annotations

import pytest

from tests.web.conftest import page_width

pytestmark = pytest.mark.browser

OGC_PAGES = ["/ogc", "/ogc/conformance", "/ogc/api?f=html", "/ogc/collections", "/ogc/collections/entities",
             "/ogc/collections/gminy", "/ogc/collections/entities/queryables?f=html",
             "/ogc/collections/entities/items?f=html", "/ogc/collections/gminy/items?f=html&limit=20",
             "/ogc/collections/powiaty/items?f=html", "/ogc/collections/entities/items/swk-001?f=html"]
PHONE = (390, 844)
DESKTOP = (1366, 900)

# Every word (a run of characters without a space, hyphen, dash or slash, where a line may end) of the text
# in table cells, outside .url/.uri, whose glyphs lie on more than one line.
BROKEN_WORDS = r"""() => {
    const broken = [];
    const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (!parent.closest('td, th') || parent.closest('.url, .uri')) { continue; }
        const words = /[^\s\-–\/]+/g;
        for (let m = words.exec(node.data); m; m = words.exec(node.data)) {
            const range = document.createRange();
            range.setStart(node, m.index);
            range.setEnd(node, m.index + m[0].length);
            const lines = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0)
                                       .map(r => Math.round(r.top)));
            if (lines.size > 1) { broken.push(m[0]); }
        }
    }
    return broken;
}"""


def open_ogc(open_page, server, path, size):
    p = open_page(*size)
    p.goto(server.url + path, ready=False)
    return p


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("path", OGC_PAGES)
def test_no_word_is_broken_in_a_table_cell(server, open_page, path, size):
    p = open_ogc(open_page, server, path, size)
    assert p.page.locator("main").count() == 1
    assert p.page.evaluate(BROKEN_WORDS) == []
    assert page_width(p.page) <= size[0]
    assert p.errors == [], p.errors


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_skip_link_shows_only_on_focus(server, open_page, size):
    p = open_ogc(open_page, server, "/ogc/collections/entities/items?f=html", size)
    pg = p.page
    skip = pg.get_by_role("link", name="Przejdź do treści")

    def on_screen() -> bool:
        box = skip.bounding_box()
        return box is not None and box["x"] + box["width"] > 0 and box["y"] + box["height"] > 0 \
            and box["x"] < size[0] and box["y"] < size[1]

    assert not on_screen()
    pg.keyboard.press("Tab")  # the first stop of the keyboard
    assert pg.evaluate("document.activeElement.textContent") == "Przejdź do treści"
    assert on_screen()
    pg.keyboard.press("Enter")
    assert pg.evaluate("location.hash") == "#main"
    pg.keyboard.press("Tab")  # focus moves on: the link hides again
    assert not on_screen()
