"""HTTP helpers shared by the GeoJSON API and the OGC API adapter.

- `respond()` turns cached bytes (or a list of byte chunks) into a response with an ETag that follows
  the dataset version, `304 Not Modified` on a matching `If-None-Match`, gzip when the client accepts
  it, `Cache-Control`, `Vary` and CORS headers.
- gzip is paid once per cached body: large chunks of a body are deflated once (sync-flushed, so further
  deflate data may follow them) and kept in the app's bounded cache (`ServedData.deflated`) keyed by the
  chunk object; a small per-request piece (the OGC `timeStamp`) is deflated on its own, a tiny one (a
  page's CSP nonce, geoes.web.pagecache) stored as it is, and the gzip trailer (CRC-32, length) is
  computed by continuing the CRC. The result is one ordinary gzip member.
- A response made here is marked `encoded_here`: flask-compress (geoes.web.compression) leaves it alone,
  so a body is never encoded twice.
- `json_error()` gives the `{"code", "description"}` body every JSON error uses (web.errors).
"""
from __future__ import annotations

import json
import struct
import zlib
from urllib.parse import unquote_to_bytes

from flask import Blueprint, Response, request
from werkzeug.http import unquote_etag

from geoes.errors import InvalidInput
from geoes.publish.cache import LRU
from geoes.web.served import served_data

GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6
CACHE_MIN_BYTES = 4096
MAX_AGE = 60  # seconds; a rebuild is visible after at most this long, then ETag revalidation answers 304
COMPRESSIBLE = ("application/json", "application/geo+json", "application/vnd.oai.openapi+json", "text/",
                "application/javascript", "image/svg+xml")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Content-Disposition, Content-Length, Link, X-Attribution, "
                                     "X-Dataset-Version",
}
CORS_PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Encoding, If-None-Match, Content-Type",
    "Access-Control-Max-Age": "86400",
}

_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no mtime: the same bytes for the same body
_FINAL_BLOCK = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # an empty last block
STORE_MAX_BYTES = 64  # smaller chunks (a CSP nonce) are stored, not deflated: no compressor to set up


def _deflate_sync(data: bytes) -> bytes:
    c = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


def _cached_deflate(chunk: bytes, cache: LRU) -> tuple[bytes, int]:
    """(sync-flushed raw deflate of chunk, crc32 of chunk), computed once per chunk object."""
    key = ("gz", id(chunk))
    hit = cache.get(key)
    if hit is not None and hit[0] is chunk:
        return hit[1], hit[2]
    data = _deflate_sync(chunk)
    # The entry holds the chunk itself, so its id cannot be reused while the entry lives.
    cache.put(key, (chunk, data, zlib.crc32(chunk)), size=len(data) + 64)
    return data, zlib.crc32(chunk)


def _stored(chunk: bytes) -> bytes:
    """A stored (uncompressed) deflate block: valid where the stream is byte-aligned, as it is after every
    sync-flushed chunk."""
    return b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk


def gzip_chunks(chunks: list[bytes], cache: LRU | None = None, cache_min: int = CACHE_MIN_BYTES) -> bytes:
    """One gzip member for b"".join(chunks); with a `cache`, chunks of `cache_min` bytes or more are deflated
    once and reused (keep them alive: they are cached by identity)."""
    parts = [_GZIP_HEADER]
    crc = 0
    size = 0
    for i, chunk in enumerate(chunks):
        if cache is not None and len(chunk) >= max(cache_min, STORE_MAX_BYTES + 1):
            data, chunk_crc = _cached_deflate(chunk, cache)
            crc = chunk_crc if i == 0 else zlib.crc32(chunk, crc)
        elif len(chunk) <= STORE_MAX_BYTES:
            data = _stored(chunk) if chunk else b""
            crc = zlib.crc32(chunk, crc)
        else:
            data = _deflate_sync(chunk)
            crc = zlib.crc32(chunk, crc)
        parts.append(data)
        size += len(chunk)
    parts.append(_FINAL_BLOCK)
    parts.append(struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))
    return b"".join(parts)


def _chunks(content) -> list[bytes]:
    if isinstance(content, str):
        return [content.encode("utf-8")]
    if isinstance(content, (bytes, bytearray)):
        return [bytes(content)]
    return [c.encode("utf-8") if isinstance(c, str) else c for c in content]


def accepts_gzip() -> bool:
    try:
        return request.accept_encodings["gzip"] > 0
    except Exception:  # a malformed header: send identity
        return False


def etag_matches(etag: str | None) -> bool:
    if not etag or not request.if_none_match:
        return False
    value, _weak = unquote_etag(etag)
    return request.if_none_match.contains_weak(value)


def _compressible(mime: str) -> bool:
    return mime.startswith(COMPRESSIBLE)


def add_cors(resp: Response) -> Response:
    for k, v in CORS_HEADERS.items():
        resp.headers.setdefault(k, v)
    if request.method == "OPTIONS":
        for k, v in CORS_PREFLIGHT.items():
            resp.headers.setdefault(k, v)
    return resp


def install_cors(bp: Blueprint) -> None:
    """CORS headers on every response of a blueprint (GET/HEAD answers and OPTIONS preflights)."""
    bp.after_request(add_cors)


def reject_bad_query_string() -> None:
    """InvalidInput (400) when the raw query string is not UTF-8 once percent-decoded (werkzeug keeps such
    bytes as literal `%FF` text, which would otherwise be searched for)."""
    raw = request.query_string
    if not raw:
        return None
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("zapytanie zawiera bajty spoza UTF-8") from None
    return None


def respond(content, status: int = 200, headers: dict | None = None, *, max_age: int = MAX_AGE,
            vary_accept: bool = False, immutable: bool = False) -> Response:
    """A response from cached content with ETag/304, gzip, Cache-Control, Vary and CORS.

    `headers` come from the producer (Content-Type, ETag, Content-Disposition…). Errors (status ≥ 400)
    are never cached by clients. `immutable`: the URL names one dataset version, its bytes never change.
    """
    headers = dict(headers or {})
    mime = headers.get("Content-Type", "application/octet-stream")
    etag = headers.pop("ETag", None) if status < 400 else None
    out_headers: dict[str, str] = {}
    vary = []
    if vary_accept:
        vary.append("Accept")
    compress = _compressible(mime)
    if compress:
        vary.append("Accept-Encoding")
    if vary:
        out_headers["Vary"] = ", ".join(vary)
    if status >= 400:
        out_headers["Cache-Control"] = "no-store"
    else:
        out_headers["Cache-Control"] = f"public, max-age={max_age}" + (", immutable" if immutable else "")
    if etag:
        out_headers["ETag"] = etag
        if status == 200 and etag_matches(etag):
            resp = Response(status=304, headers=out_headers)
            return add_cors(resp)
    chunks = _chunks(content)
    size = sum(len(c) for c in chunks)
    if compress and size >= GZIP_MIN_BYTES and accepts_gzip():
        body = gzip_chunks(chunks, served_data().deflated)
        out_headers["Content-Encoding"] = "gzip"
    else:
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    headers.update(out_headers)
    resp = Response(body, status=status, headers=headers)
    resp.encoded_here = True  # gzip (or not) decided here: geoes.web.compression leaves it alone
    return add_cors(resp)


def json_error(status: int, code: str, description: str) -> Response:
    body = json.dumps({"code": code, "description": description}, ensure_ascii=False).encode("utf-8")
    return respond(body, status, {"Content-Type": "application/json"})


def core_response(result: tuple, *, vary_accept: bool = True, max_age: int = MAX_AGE) -> Response:
    """Adapt a (headers, status, content) triple from the framework-free core."""
    headers, status, content = result
    return respond(content, status, headers, vary_accept=vary_accept, max_age=max_age)
