"""Compression of what the app does not encode itself, with flask-compress: brotli or gzip, as the client
prefers (brotli first when it takes both).

Three paths, never two on one body:
* /static/ — WhiteNoise serves files compressed once (brotli quality 11, gzip 9) beside the originals
  (geoes.web.assets); Flask never sees those requests;
* the GeoJSON and OGC APIs' cached bodies — gzipped by geoes.web.http from cached deflate data; such a
  response is marked (`encoded_here`) and left alone here, also when it stayed uncompressed;
* pages, the report, sitemap, robots.txt and error pages — HTML pages already gzipped from their cached
  pieces (geoes.web.pagecache) carry Content-Encoding, which flask-compress leaves alone; everything else
  (and a page for a client that takes brotli but not gzip) is compressed here.
"""
from __future__ import annotations

from flask import Flask
from flask_compress import Compress

DEFAULTS = {
    "COMPRESS_REGISTER": False,  # our after_request below decides which responses it sees
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_LEVEL": 6,
    "COMPRESS_MIN_SIZE": 512,
    "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/plain", "text/xml", "text/csv", "text/javascript",
                           "application/javascript", "application/json", "application/geo+json",
                           "application/ld+json", "application/xml", "image/svg+xml"],
}


def install(app: Flask) -> Compress:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    compress = Compress(app)

    @app.after_request
    def _compress(response):
        if getattr(response, "encoded_here", False):
            return response
        return compress.after_request(response)

    return compress
