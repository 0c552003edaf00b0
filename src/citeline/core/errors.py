"""Typed domain errors; one handler in app.py renders them as {"detail", "code"}."""

from __future__ import annotations


class CiteLineError(Exception):
    """Base class: carries an HTTP status and a stable machine-readable code."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(
        self, detail: str, *, headers: dict[str, str] | None = None, extra: dict[str, object] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra  # more fields for the error body, e.g. the sources found before a model failed


class BadRequestError(CiteLineError):
    status_code = 400
    code = "bad_request"


class IndexEmptyError(CiteLineError):
    status_code = 400
    code = "index_empty"


class DocumentParseError(CiteLineError):
    """A file that has a supported type but cannot be read (encrypted PDF, corrupt DOCX, ...)."""

    status_code = 400
    code = "document_unreadable"

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"Could not read {filename!r}: {reason}")
        self.filename = filename
        self.reason = reason


class NotFoundError(CiteLineError):
    status_code = 404
    code = "not_found"


class DocumentNotFoundError(NotFoundError):
    code = "document_not_found"


class JobNotFoundError(NotFoundError):
    code = "job_not_found"


class ConflictError(CiteLineError):
    status_code = 409
    code = "conflict"


class PayloadTooLargeError(CiteLineError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(CiteLineError):
    status_code = 415
    code = "unsupported_media_type"


class ServiceUnavailableError(CiteLineError):
    status_code = 503
    code = "not_ready"


class CollectionNotFoundError(NotFoundError):
    code = "collection_not_found"


class JobFinishedError(ConflictError):
    code = "job_finished"


class UpstreamError(CiteLineError):
    """The configured language model failed (after the SDK's retries)."""

    status_code = 502
    code = "llm_unavailable"


class UpstreamTimeoutError(CiteLineError):
    status_code = 504
    code = "llm_timeout"


class UnauthorizedError(CiteLineError):
    """No credential, or one that is unknown, revoked, expired or badly signed."""

    status_code = 401
    code = "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class ForbiddenError(CiteLineError):
    """A valid credential without the scope or role the operation needs."""

    status_code = 403
    code = "forbidden"


class RateLimitedError(CiteLineError):
    status_code = 429
    code = "rate_limited"
