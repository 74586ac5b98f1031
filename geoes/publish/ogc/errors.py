"""Errors of the OGC API core: an HTTP status, an OGC exception code and a Polish description."""
from __future__ import annotations

import json


class OGCError(Exception):
    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description

    def body(self) -> bytes:
        return json.dumps({"code": self.code, "description": self.description}, ensure_ascii=False).encode("utf-8")

    def response(self):
        """(headers, status, content) like every core function."""
        return {"Content-Type": "application/json"}, self.status, self.body()


def not_found(what: str) -> OGCError:
    return OGCError(404, "NotFound", what)


def invalid(param: str, message: str) -> OGCError:
    return OGCError(400, "InvalidParameterValue", f"{param}: {message}")
