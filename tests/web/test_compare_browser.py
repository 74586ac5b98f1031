"""The comparison on a phone: its table scrolls sideways inside its region while the indicator names (the
first column) stay in view."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PHONE = (390, 844)


def test_compare_first_column_sticks_on_a_phone(server, open_page):
    p = open_page(*PHONE)
    pg = p.page
    pg.goto(f"{server.url}/compare?teryt=2602&teryt=2601&teryt=2603&teryt=2604")
    region = pg.locator(".table-wrap:has(table.compare-table)")
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")  # four units do not fit a phone
    first = pg.locator("table.compare-table tbody tr:first-child th")
    cell = pg.locator("table.compare-table tbody tr:first-child td").nth(2)
    first.scroll_into_view_if_needed()
    before = (first.bounding_box()["x"], cell.bounding_box()["x"])
    region.evaluate("e => { e.scrollLeft = 250; }")
    pg.wait_for_function("() => document.querySelector('.table-wrap:has(table.compare-table)').scrollLeft > 0")
    after = (first.bounding_box()["x"], cell.bounding_box()["x"])
    assert abs(after[0] - before[0]) < 1  # the indicator's name stays where it was
    assert after[1] < before[1] - 100  # while the figures move under it
    # The name is painted over the figures, not under them.
    covered = pg.evaluate("""() => {
        const th = document.querySelector('table.compare-table tbody tr:first-child th');
        const r = th.getBoundingClientRect();
        return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2).closest('th') === th;
    }""")
    assert covered
    assert p.errors == [], p.errors
