"""One error hierarchy. Every error a client sees has a stable code and an HTTP status."""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error we show to clients; subclasses fix code and status."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    status_code: ClassVar[int] = 500
    default_message: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = headers or {}
        if code is not None:
            self.code = code  # type: ignore[misc]  # per-instance code, e.g. AUTH_001
        super().__init__(self.message)

    def public(self) -> AppError:
        """The error a client sees. An error that wraps an outside service's failure keeps
        that service's code and status for logs and maps them to ours here."""
        return self


class BadRequestError(AppError):
    code = "BAD_REQUEST"
    status_code = 400
    default_message = "Bad request"


class MalformedJSONError(BadRequestError):
    code = "MALFORMED_JSON"
    default_message = "Request body is not valid JSON"


class ValidationError(AppError):
    code = "VALIDATION_ERROR"
    status_code = 422
    default_message = "Request validation failed"


class UnauthorizedError(AppError):
    code = "UNAUTHORIZED"
    status_code = 401
    default_message = "Authentication required"


class ForbiddenError(AppError):
    code = "FORBIDDEN"
    status_code = 403
    default_message = "Not allowed"


class NotFoundError(AppError):
    code = "NOT_FOUND"
    status_code = 404
    default_message = "Not found"


class MethodNotAllowedError(AppError):
    code = "METHOD_NOT_ALLOWED"
    status_code = 405
    default_message = "Method not allowed"


class ConflictError(AppError):
    code = "CONFLICT"
    status_code = 409
    default_message = "Conflict"


class PayloadTooLargeError(AppError):
    code = "PAYLOAD_TOO_LARGE"
    status_code = 413
    default_message = "Request body too large"


class UnsupportedMediaTypeError(AppError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status_code = 415
    default_message = "Unsupported content type"


class RateLimitedError(AppError):
    code = "RATE_LIMITED"
    status_code = 429
    default_message = "Rate limit exceeded"

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        headers = {"Retry-After": str(max(1, retry_after))}
        headers.update(kwargs.pop("headers", None) or {})
        super().__init__(message, headers=headers, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailableError(AppError):
    code = "SERVICE_UNAVAILABLE"
    status_code = 503
    default_message = "Service unavailable"


class UpstreamError(AppError):
    code = "UPSTREAM_ERROR"
    status_code = 502
    default_message = "An upstream service failed"


STATUS_CODES: dict[int, type[AppError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: ValidationError,
    503: ServiceUnavailableError,
}


def error_for_status(status_code: int, message: str | None = None) -> AppError:
    """The AppError matching an HTTP status (used for framework-raised HTTP errors)."""
    cls = STATUS_CODES.get(status_code)
    if cls is None:
        error = AppError(message or "HTTP error", code=f"HTTP_{status_code}")
        error.status_code = status_code  # type: ignore[misc]
        return error
    return cls(message)
