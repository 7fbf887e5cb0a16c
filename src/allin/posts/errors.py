"""The posts domain's errors, each with a stable code."""

from __future__ import annotations

from allin.core.errors import AppError, ConflictError, NotFoundError, PayloadTooLargeError


class InvalidTimezoneError(AppError):
    code = "SCHEDULE_001"
    status_code = 422
    default_message = "Unknown time zone"


class NonexistentTimeError(AppError):
    code = "SCHEDULE_002"
    status_code = 422
    default_message = "That local time does not exist in the time zone"


class AmbiguousTimeError(AppError):
    code = "SCHEDULE_003"
    status_code = 422
    default_message = "That local time happens twice in the time zone"


class ScheduleInPastError(AppError):
    code = "SCHEDULE_004"
    status_code = 422
    default_message = "The time is in the past"


class NoFreeSlotError(AppError):
    code = "SCHEDULE_005"
    status_code = 409
    default_message = "The account has no free posting slot"


class ContentInvalidError(AppError):
    code = "CONTENT_001"
    status_code = 422
    default_message = "The post does not fit a platform's rules"


class PostNotFoundError(NotFoundError):
    code = "POST_001"
    default_message = "Post not found"


class PostStateError(ConflictError):
    code = "POST_002"
    default_message = "The post cannot change in its current state"


class AccountNotFoundError(NotFoundError):
    code = "POST_003"
    default_message = "Connected account not found"


class MediaNotFoundError(NotFoundError):
    code = "MEDIA_001"
    default_message = "Media not found"


class MediaTypeError(AppError):
    code = "MEDIA_002"
    status_code = 415
    default_message = "Unsupported media type"


class MediaTooLargeError(PayloadTooLargeError):
    code = "MEDIA_003"
    default_message = "Media file too large"


class MediaInUseError(ConflictError):
    code = "MEDIA_004"
    default_message = "Media is used by a post"


class CsvImportError(AppError):
    code = "POST_004"
    status_code = 422
    default_message = "The CSV file has errors"
