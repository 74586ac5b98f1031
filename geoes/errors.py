"""One error model for the whole package.

Every expected failure is a `GeoesError`: it carries the exit code the CLI ends with, the HTTP status the
web answers with, and the error code of the one JSON error shape `{"code", "description"}` (the OGC API
exception codes). The description is Polish and written for the person who reads it. The CLI turns an
error into one line and its exit code in one place (`geoes.cli`), the web into a response in one place
(`geoes.web`); nothing else converts errors.

Exit codes: 0 all well, 1 some rows rejected (not an error: the file with reasons is written), 2 cannot
go on.
"""
from __future__ import annotations


class GeoesError(Exception):
    exit_code = 2
    http_status = 500
    code = "InternalError"

    def __init__(self, description: str, *, status: int | None = None, code: str | None = None):
        super().__init__(description)
        self.description = description
        if status is not None:
            self.http_status = status
        if code is not None:
            self.code = code

    def as_json(self) -> dict:
        return {"code": self.code, "description": self.description}


class InvalidInput(GeoesError):
    """A request parameter, option or file the user gave cannot be used as it stands."""
    http_status = 400
    code = "InvalidParameterValue"


class NotFound(GeoesError):
    """An identifier (TERYT code, entity id, collection) that the served data do not have."""
    http_status = 404
    code = "NotFound"


class DataMissing(GeoesError):
    """Data that must be fetched or built first are not there (a state, not the user's mistake)."""
    http_status = 503
    code = "ServiceUnavailable"


class Conflict(GeoesError):
    """Another operation holds what this one needs (a build under way)."""
    http_status = 409
    code = "Conflict"


class ServiceError(GeoesError):
    """An outside service (GUGiK, GUS, KRS, a geocoder) failed or answered what cannot be used."""
    http_status = 502
    code = "BadGateway"
