"""Errors of the OGC API core: a `GeoesError` with the HTTP status, the OGC exception code and a Polish
description, and the (headers, status, content) triple every core function returns."""
from __future__ import annotations

import json

from geoes.errors import GeoesError


class OGCError(GeoesError):
    def __init__(self, status: int, code: str, description: str):
        super().__init__(description, status=status, code=code)

    @property
    def status(self) -> int:
        return self.http_status

    def body(self) -> bytes:
        return json.dumps(self.as_json(), ensure_ascii=False).encode("utf-8")

    def response(self):
        """(headers, status, content) like every core function."""
        return {"Content-Type": "application/json"}, self.status, self.body()


def not_found(what: str) -> OGCError:
    return OGCError(404, "NotFound", what)


def invalid(param: str, message: str) -> OGCError:
    return OGCError(400, "InvalidParameterValue", f"{param}: {message}")
