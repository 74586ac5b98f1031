"""The one escaping helper of the web pages, the report, the OGC views and the map builders.

Entity text comes from office spreadsheets and public web pages: it may hold HTML, `<script>`, event
handlers, `javascript:` links, quotes, backslashes and backticks. Everything shown goes through here:

* `text(value)` — for HTML text *and* quoted attribute values *and* JavaScript string or template
  literals (folium puts tooltips into JS template literals ``\\`...\\``` as raw HTML). Besides
  ``& < > " '`` it encodes the backtick, ``$`` and the backslash, so the result can neither close a
  literal nor start a ``${...}`` expression, and renders back to the original characters in HTML.
* `json_script(obj)` — JSON for a ``<script type="application/json">`` block or an inline script:
  ``< > & '`` and U+2028/U+2029 are \\u-escaped so the data cannot end the script element.
* `safe_url(url)` — the URL if it is an absolute http(s) URL with a host and no whitespace or control
  characters, else None. Links are only ever http(s): `javascript:`, `data:`, `mailto:` … are text.
* `link(url, label)` — an ``<a>`` for a safe URL (rel="noopener noreferrer nofollow"), else the text.
* `link_with_host(url)` — a link someone else supplied, shown to the operator: the same check, and the
  host it really leads to beside it (`real_host`). `mailto(address)` — a percent-encoded mailto: href.
* `tel_links(phones)` — each Polish number of a phone field ("+48 41 344 55 66, +48 600 123 456") as an
  ``<a href="tel:+48413445566">``; `mailto_link(email)` — an ``<a href="mailto:…">`` (the address
  URL-encoded) for an address that reads as one; anything else stays escaped text.
* `linkify(text)` — text with its http(s) URLs as links (a verification's evidence).

geoes.publish.templating installs them as Jinja filters in every template (``|e`` stays Jinja's
autoescape for plain text).
"""
from __future__ import annotations

import json
import math
import re
from urllib.parse import quote, urlsplit

from markupsafe import Markup

_TEXT_MAP = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;",
    "`": "&#96;", "$": "&#36;", "\\": "&#92;",
    "\u2028": "&#8232;", "\u2029": "&#8233;",
}
_TEXT_RE = re.compile("[&<>\"'`$\\\\\u2028\u2029]")
_URL_BAD = re.compile(r"[\x00-\x20\x7f-\x9f\s\\<>\"'`]")


def _as_str(value) -> str:
    if value is None:
        return ""
    try:
        if value != value:  # NaN, pd.NA raises TypeError
            return ""
    except TypeError:
        return ""
    if isinstance(value, float) and math.isinf(value):
        return str(value)
    return str(value)


def text(value) -> Markup:
    """Escape for HTML text, quoted attributes and JS string/template literals alike."""
    s = _as_str(value)
    return Markup(_TEXT_RE.sub(lambda m: _TEXT_MAP[m.group(0)], s))


def json_script(obj) -> Markup:
    """JSON safe inside <script> (and inside an HTML attribute): no `<`, `>`, `&`, `'` left raw (so no
    `</script>`), nor a backtick or `$` (nothing that reads as a template literal if copied into one)."""
    s = json.dumps(obj, ensure_ascii=False, allow_nan=False, default=_json_default, separators=(",", ":"))
    s = (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")
         .replace("`", "\\u0060").replace("$", "\\u0024")
         .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return Markup(s)


def _json_default(value):
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def safe_url(url) -> str | None:
    """The URL if it is an absolute http(s) URL with a host, else None."""
    s = _as_str(url).strip()
    if not s or len(s) > 2000 or _URL_BAD.search(s):
        return None
    try:
        parts = urlsplit(s)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or parts.username or parts.password:
        return None
    return s


def link(url, label=None) -> Markup:
    """<a href> for an http(s) URL (label escaped), else the escaped text of the URL or label."""
    href = safe_url(url)
    shown = _as_str(label) if label not in (None, "") else _as_str(url)
    if href is None:
        return text(shown)
    return Markup('<a href="%s" rel="noopener noreferrer nofollow">%s</a>') % (text(href), text(shown))


def real_host(url) -> str:
    """The host a URL really leads to, as the browser would ask DNS for it (IDN as punycode, so a look-alike
    letter shows); '' when there is none."""
    try:
        host = urlsplit(_as_str(url).strip()).hostname or ""
    except ValueError:
        return ""
    try:
        return host.encode("idna").decode("ascii") if host and not host.isascii() else host
    except UnicodeError:
        return host.encode("ascii", "backslashreplace").decode("ascii")


def link_with_host(url) -> Markup:
    """A link someone else supplied, for the operator: an <a> only through `safe_url`, always followed by
    the host it really leads to — `https://127.0.0.1@evil.example/` is text, "prowadzi do evil.example"."""
    shown = _as_str(url).strip()
    if not shown:
        return Markup("–")
    host = real_host(shown)
    where = text(f"serwer: {host}" if host else "bez serwera")
    href = safe_url(shown)
    if href is None:
        why = "adres z nazwą użytkownika przed @ — " if "@" in shown.split("//", 1)[-1].split("/", 1)[0] else ""
        return Markup('%s <span class="hint">(nie jest linkiem: %s%s)</span>') % (text(shown), why, where)
    return Markup('<a href="%s" rel="noopener noreferrer nofollow">%s</a> <span class="hint">(%s)</span>') % (
        text(href), text(shown), where)


def mailto(address) -> str:
    """The href of a mailto: link with the address percent-encoded (RFC 6068), so that `?`, `&`, `%`, `,`
    and the like in someone's address cannot add cc:, bcc:, a subject or a body."""
    return "mailto:" + quote(_as_str(address).strip(), safe="@")
# The record's phone form (geoes.register.validate): +48 and 9 digits in groups, an optional extension.
_PHONE_RE = re.compile(r"^\+48((?: \d{2,3}){3,4})(?: wew\. (\d{1,5}))?$")
_EMAIL_RE = re.compile(r"^[^@\s<>\"'(),;:]+@[^@\s<>\"'(),;:]+\.[a-z]{2,}$", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'`]+")


def tel_href(phone) -> str | None:
    """'+48 41 344 55 66 wew. 12' → 'tel:+48413445566;ext=12' (RFC 3966); None for anything else."""
    m = _PHONE_RE.match(_as_str(phone).strip())
    if not m:
        return None
    digits = m.group(1).replace(" ", "")
    if len(digits) != 9:
        return None
    return f"tel:+48{digits}" + (f";ext={m.group(2)}" if m.group(2) else "")


def tel_links(value) -> Markup:
    """Every number of a phone field as a tel: link (the number as shown), separated by commas."""
    parts = [p.strip() for p in _as_str(value).split(",") if p.strip()]
    out = []
    for part in parts:
        href = tel_href(part)
        out.append(Markup('<a href="%s">%s</a>') % (href, text(part)) if href else text(part))
    return Markup(", ").join(out)


def mailto_link(value) -> Markup:
    """A mailto: link for an e-mail address (URL-encoded in the href), else the escaped text."""
    address = _as_str(value).strip()
    if not _EMAIL_RE.match(address):
        return text(address)
    return Markup('<a href="%s">%s</a>') % (text(mailto(address)), text(address))


def linkify(value) -> Markup:
    """Escaped text with its http(s) URLs as links (rel="noopener noreferrer nofollow")."""
    s = _as_str(value)
    out, last = [], 0
    for m in _URL_IN_TEXT.finditer(s):
        url = m.group(0).rstrip(".,;:)")
        out += [text(s[last:m.start()]), link(url)]
        last = m.start() + len(url)
    out.append(text(s[last:]))
    return Markup("").join(out)


def split_sources(value, sep: str = "|") -> list[str]:
    """The `sources` field (URLs separated by ` | `) as a list."""
    return [s.strip() for s in _as_str(value).split(sep) if s.strip()]
