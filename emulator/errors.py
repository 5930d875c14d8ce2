"""The vendor error envelope and every message the emulator can answer with.

Messages and descriptions are copied from vendor examples where they exist (contract §1.5); the rest are
ours and carry the §9 decision that introduced them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    description: str


# Contract §1.5 (vendor texts).
UNAUTHORIZED = Message(
    "unauthorized",
    "This happens because of 1)Miss match between access token and secret key "
    "2)Miss match between access token and workspace 3)No valid Access token provided.",
)
FORBIDDEN = Message(
    "forbidden",
    "The Access token does not have permissions to perform the request. Check access token's permissions. "
    "Read more https://docs.fastpix.io/docs/user-roles",
)
STREAM_NOT_FOUND = Message(
    "stream not found", "The requested resource (eg:streamId) doesn't exist in the workspace"
)
PLAYBACK_NOT_FOUND = Message(
    "stream/playbackId not found",
    "The requested resource (eg:streamId/playbackId) doesn't exist in the workspace",
)
SIMULCAST_NOT_FOUND = Message(
    "stream/simulcast not found",
    "The requested resource (eg:streamId/simulcastId) doesn't exist in the workspace",
)
MEDIA_NOT_FOUND = Message(
    "media workspace relation not found", "The requested resource (eg:mediaId) doesn't exist in the workspace"
)
ALREADY_DISABLED = Message("stream already disabled", "The requested stream is already disabled.")
ALREADY_ENABLED = Message("stream is already enabled", "The requested stream is already in an enabled state.")
TRIAL_CANNOT_ENABLE = Message(
    "stream cannot be enabled on trial plan",
    "The requested stream cannot be enabled while on a trial plan. Please upgrade your plan.",
)
# The vendor example reuses a copy-pasted 404 description; we keep it verbatim (contract §1.5).
TRIAL_NO_SIMULCAST = Message(
    "Simulcast is not available for trial streams",
    "The requested resource (eg:streamId/playbackId) doesn't exist in the workspace",
)

# Ours (contract §9).
STREAM_DISABLED = Message(  # A6
    "stream is disabled", "The requested stream is disabled and cannot be updated. Enable the stream first."
)
STREAM_NOT_ACTIVE = Message(  # A7
    "stream is not active", "The stream can be completed only while it is in the active state."
)
SIMULCAST_NEEDS_IDLE = Message(  # §4.3, create simulcast
    "simulcast can only be created when the stream is idle",
    "A simulcast can only be created while the stream is idle (not live and not disabled).",
)
ROUTE_NOT_FOUND = Message("route not found", "The requested route does not exist.")  # A10
METHOD_NOT_ALLOWED = Message("method not allowed", "The requested route does not support this HTTP method.")
TOO_MANY_REQUESTS = Message(  # §1.7, exact body
    "too many requests", "Rate limit exceeded. Retry after the number of seconds in the Retry-After header."
)
BODY_TOO_LARGE = Message("request body too large", "The request body must not exceed 1 MB.")
VALIDATION_FAILED = "payload validation failed"  # §1.4

# Injected faults (§8). 524 wording follows the vendor error-code page ("Timeout Occurred"), 409 its
# "Data Conflict"; 408 is in the declared retry list (§1.6).
FAULT_MESSAGES: dict[int, Message] = {
    408: Message("request timeout", "The server timed out waiting for the request."),
    409: Message("data conflict", "The request conflicts with the current state of the resource."),
    413: BODY_TOO_LARGE,
    429: TOO_MANY_REQUESTS,
    500: Message("internal server error", "Something went wrong on our side. Please try again later."),
    502: Message("bad gateway", "The upstream service returned an invalid response."),
    503: Message("service unavailable", "The service is temporarily unavailable. Please try again later."),
    504: Message("gateway timeout", "The upstream service did not respond in time."),
    524: Message("timeout occurred", "The request timed out before the server could respond."),
}


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


@dataclass
class ApiError(Exception):
    """An error answered with the vendor envelope (contract §1.4)."""

    status: int
    message: str
    description: str | None = None
    fields: list[FieldError] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, status: int, message: Message, headers: dict[str, str] | None = None) -> ApiError:
        return cls(status, message.text, message.description, headers=headers or {})

    @classmethod
    def validation(cls, fields: list[FieldError]) -> ApiError:
        return cls(422, VALIDATION_FAILED, fields=fields)

    def __str__(self) -> str:
        return f"{self.status} {self.message}"

    def body(self) -> dict[str, Any]:
        # `code` is the integer HTTP status (A25). 422 carries `fields` instead of `description` (§1.4).
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.fields is not None:
            error["fields"] = [{"field": f.field, "message": f.message} for f in self.fields]
        elif self.description is not None:
            error["description"] = self.description
        return {"success": False, "error": error}
