"""Every other place where user text meets a regular expression (issue 27): the patterns that backtracked
over long input — whitespace before a dash in `text_key`, the URL check, e-mails inside a contacts cell —
give the same answers as before in linear time. Inputs are a file cell or a form field."""
from __future__ import annotations

import re
import time

from hypothesis import given, settings, strategies as st

from geoes.common.text import text_key
from geoes.register.normalise import _EMAIL_IN_RE, split_contacts
from geoes.register.validate import URL_RE

OLD_URL_RE = re.compile(r"^https?://[^\s<>\"']+\.[^\s<>\"']+$", re.IGNORECASE)
OLD_DASH_RE, OLD_SPACE_RE = re.compile(r"\s*-\s*"), re.compile(r"\s+")
URLISH = st.text(alphabet="ahtps:/.-x <\"'\t", max_size=40)


def _seconds(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def test_long_hostile_input_is_handled_in_linear_time():
    n = 200_000
    # Each took minutes to hours at this length (quadratic backtracking); bounds are for a DoS regression only.
    assert _seconds(text_key, " " * n + "x") < 2
    assert _seconds(URL_RE.match, "http://" + "a." * n + " ") < 2
    assert _seconds(split_contacts, "a" * n) < 2


@settings(max_examples=300, deadline=None)
@given(URLISH.map(lambda s: "http://" + s) | URLISH)
def test_the_url_check_accepts_what_it_accepted(value):
    assert bool(URL_RE.match(value)) == bool(OLD_URL_RE.match(value))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab -–\t\n", max_size=30))
def test_text_key_is_unchanged(value):
    from geoes.common.text import _TABLE
    import unicodedata

    old = OLD_SPACE_RE.sub(" ", OLD_DASH_RE.sub("-", unicodedata.normalize("NFC", value).translate(_TABLE)))
    assert text_key(value) == old.strip().casefold()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab@.pl ,;x", max_size=40))
def test_emails_in_a_contacts_cell_are_found_as_before(value):
    old = _EMAIL_IN_RE.findall(value)
    assert split_contacts(value).get("email") == (old[0] if old else None)
