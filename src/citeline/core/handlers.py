"""Exception handlers: every error body is {"detail": ..., "code": ...} (some add fields, e.g. `sources`)."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from citeline.core.errors import CiteLineError

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "not_ready",
}


def error_response(
    status: int,
    detail: object,
    code: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, object] | None = None,
) -> JSONResponse:
    body = {**(extra or {}), "detail": detail, "code": code}
    return JSONResponse(status_code=status, content=jsonable_encoder(body), headers=headers)


async def citeline_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CiteLineError)
    return error_response(exc.status_code, exc.detail, exc.code, exc.headers, exc.extra)


async def http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODES.get(exc.status_code) or HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    return error_response(exc.status_code, exc.detail, code, dict(exc.headers) if exc.headers else None)


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, exc.errors(), "validation_error")


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "Internal server error", "internal_error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CiteLineError, citeline_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
