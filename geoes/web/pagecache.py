"""Pages rendered once per dataset version and served from memory; only the CSP nonce is per request.

A page view decorated with `@cached_page` is rendered once per dataset version and request shape — the
endpoint, its path arguments, the query string (in order: /compare's first unit is the reference) and
the app's URL root (every link carries it) — into the app's bounded page cache (`ServedData.pages`; its
keys start with the version, so a rebuild drops every page at once). Where a template writes
`csp_nonce`, a cached render writes an unguessable per-process placeholder, and the page is kept split
there. Each request joins the pieces with its own nonce (geoes.web.security): the same discipline as the
API's serialised layers (geoes.web.http). For gzip the large pieces are deflated once and kept
(`ServedData.deflated`); only the nonce is added per request, as a stored block.

Brotli would have to compress the whole page again for every nonce, and at the speed a request allows
it is no smaller than gzip for these pages, so a client that takes gzip gets gzip; one that takes
brotli only gets it from flask-compress (geoes.web.compression).
"""
from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from flask import Response, g, request

from geoes.web.http import GZIP_MIN_BYTES, accepts_gzip, gzip_chunks
from geoes.web.served import served_data

# Letters and digits only: HTML escaping leaves it as it is, so it is found wherever a template put it.
PLACEHOLDER = "geoesnonce" + secrets.token_hex(16)


@dataclass(frozen=True)
class Page:
    pieces: tuple[bytes, ...]  # the page split where the nonce goes
    status: int

    @property
    def nbytes(self) -> int:
        return sum(len(p) for p in self.pieces) + 64


def render_nonce() -> str:
    """The nonce templates write: the placeholder while a page is rendered for the cache."""
    return g.get("render_nonce") or g.get("csp_nonce", "")


def _render(view, args, kwargs) -> Page | Response:
    g.render_nonce = PLACEHOLDER
    try:
        rv = view(*args, **kwargs)
    finally:
        g.pop("render_nonce", None)
    if isinstance(rv, Response):
        return rv
    body, status = rv if isinstance(rv, tuple) else (rv, 200)
    return Page(tuple(body.encode("utf-8").split(PLACEHOLDER.encode("ascii"))), status)


def page_key(kwargs: dict) -> tuple:
    return (served_data().current().version, request.endpoint, tuple(sorted(kwargs.items())),
            tuple(request.args.items(multi=True)), request.url_root)


def cached_page(view):
    """Serve the view's page from the app's page cache, rendering it once per version and request shape."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        pages = served_data().pages
        key = page_key(kwargs)
        page = pages.get(key)
        if page is None:
            page = _render(view, args, kwargs)
            if isinstance(page, Response):
                return page
            if page.status == 200:
                pages.put(key, page, size=page.nbytes)
        return page_response(page, g.get("csp_nonce", ""))
    return wrapper


def page_response(page: Page, nonce: str) -> Response:
    """The page with `nonce` filled in; gzip from the cached pieces when the client takes it."""
    filler = nonce.encode("ascii")
    parts = [page.pieces[0]]
    for piece in page.pieces[1:]:
        parts += [filler, piece]
    headers = {"Content-Type": "text/html; charset=utf-8", "Vary": "Accept-Encoding"}
    if sum(len(p) for p in parts) >= GZIP_MIN_BYTES and accepts_gzip():
        # Every piece of a cached page lives as long as the page: all are deflated once (the nonce is stored).
        body = gzip_chunks(parts, served_data().deflated, cache_min=0)
        headers["Content-Encoding"] = "gzip"
    else:
        body = b"".join(parts)
    return Response(body, status=page.status, headers=headers)
