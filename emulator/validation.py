"""Request validation: every rule of contract §7, answered as 422 `payload validation failed` + `fields`.

Unknown body fields are ignored, not rejected (§7): SDK 1.2.0 sends fields the spec does not list.
A JSON `null` on an optional field means "absent" (the SDK never sends nulls; `exclude_none`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from emulator.errors import ApiError, FieldError

RESOLUTIONS = ("1080p", "720p", "480p")
POLICIES = ("public", "private")
ORDERS = ("asc", "desc")
METADATA_MAX_ENTRIES = 10
METADATA_MAX_CHARS = 255
RECONNECT_MIN, RECONNECT_MAX = 60, 1800
LIMIT_MIN, LIMIT_MAX = 1, 50
_INTEGER = re.compile(r"-?[0-9]+")

Order = Literal["asc", "desc"]


class Problems:
    """Collects field errors so one response reports all of them."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(FieldError(field, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ApiError.validation(self.items)


def parse_json_body(raw: bytes) -> dict[str, Any]:
    """An empty body counts as `{}`; anything that is not a JSON object is a 422 (brief: 400 or 422)."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError.validation([FieldError("body", "must be a valid JSON object")]) from None
    if not isinstance(value, dict):
        raise ApiError.validation([FieldError("body", "must be a valid JSON object")])
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_metadata(value: Any, field: str, problems: Problems) -> dict[str, str] | None:
    """≤10 entries, string values ≤255 chars, keys ≤255 chars too (contract §7, A12)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.add(field, "must be an object")
        return None
    ok = True
    if len(value) > METADATA_MAX_ENTRIES:
        problems.add(field, f"must have at most {METADATA_MAX_ENTRIES} entries")
        ok = False
    for key, item in value.items():
        if len(key) > METADATA_MAX_CHARS:
            problems.add(field, f"keys must be at most {METADATA_MAX_CHARS} characters")
            ok = False
        elif not isinstance(item, str):
            problems.add(f"{field}.{key}", "must be a string")
            ok = False
        elif len(item) > METADATA_MAX_CHARS:
            problems.add(f"{field}.{key}", f"size must be between 0 and {METADATA_MAX_CHARS}")
            ok = False
    return dict(value) if ok else None


def check_reconnect_window(value: Any, field: str, problems: Problems) -> int | None:
    if value is None:
        return None
    if not _is_int(value):
        problems.add(field, "must be an integer")
        return None
    if not RECONNECT_MIN <= value <= RECONNECT_MAX:
        problems.add(field, f"must be between {RECONNECT_MIN} and {RECONNECT_MAX}")
        return None
    return int(value)


def check_choice(value: Any, field: str, choices: tuple[str, ...], problems: Problems) -> str | None:
    if value is None:
        return None
    if value not in choices:
        problems.add(field, f"must be one of [{', '.join(choices)}]")
        return None
    return str(value)


def check_bool(value: Any, field: str, problems: Problems) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        problems.add(field, "must be a boolean")
        return None
    return value


def check_object(value: Any, field: str, problems: Problems, *, required: bool) -> dict[str, Any]:
    if value is None:
        if required:
            problems.add(field, "must not be null")
        return {}
    if not isinstance(value, dict):
        problems.add(field, "must be an object")
        return {}
    return value


def check_access_restrictions(value: Any, field: str, problems: Problems) -> dict[str, Any] | None:
    """SDK-only `accessRestrictions` (A14): stored and echoed, so it must at least be well formed."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.add(field, "must be an object")
        return None
    result: dict[str, Any] = {}
    for part in ("domains", "userAgents"):
        rules = value.get(part)
        if rules is None:
            continue
        if not isinstance(rules, dict):
            problems.add(f"{field}.{part}", "must be an object")
            continue
        clean: dict[str, Any] = {}
        policy = check_choice(
            rules.get("defaultPolicy"), f"{field}.{part}.defaultPolicy", ("allow", "deny"), problems
        )
        if policy is not None:
            clean["defaultPolicy"] = policy
        for listing in ("allow", "deny"):
            items = rules.get(listing)
            if items is None:
                continue
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                problems.add(f"{field}.{part}.{listing}", "must be an array of strings")
                continue
            clean[listing] = list(items)
        result[part] = clean
    return result


@dataclass(frozen=True, slots=True)
class CreateStream:
    access_policy: str
    access_restrictions: dict[str, Any] | None
    max_resolution: str
    reconnect_window: int
    media_policy: str
    metadata: dict[str, str]
    enable_dvr_mode: bool
    enable_recording: bool


def parse_create_stream(body: dict[str, Any]) -> CreateStream:
    """`POST /live/streams` (contract §3.1): both top-level objects required, empty objects valid."""
    problems = Problems()
    playback = check_object(body.get("playbackSettings"), "playbackSettings", problems, required=True)
    media = check_object(body.get("inputMediaSettings"), "inputMediaSettings", problems, required=True)
    access_policy = check_choice(
        playback.get("accessPolicy"), "playbackSettings.accessPolicy", POLICIES, problems
    )
    restrictions = check_access_restrictions(
        playback.get("accessRestrictions"), "playbackSettings.accessRestrictions", problems
    )
    prefix = "inputMediaSettings"
    max_resolution = check_choice(
        media.get("maxResolution"), f"{prefix}.maxResolution", RESOLUTIONS, problems
    )
    window = check_reconnect_window(media.get("reconnectWindow"), f"{prefix}.reconnectWindow", problems)
    media_policy = check_choice(media.get("mediaPolicy"), f"{prefix}.mediaPolicy", POLICIES, problems)
    metadata = check_metadata(media.get("metadata"), f"{prefix}.metadata", problems)
    dvr = check_bool(media.get("enableDvrMode"), f"{prefix}.enableDvrMode", problems)
    recording = check_bool(media.get("enableRecording"), f"{prefix}.enableRecording", problems)
    problems.raise_if_any()
    # Defaults per A13.
    return CreateStream(
        access_policy=access_policy or "public",
        access_restrictions=restrictions,
        max_resolution=max_resolution or "1080p",
        reconnect_window=window if window is not None else 60,
        media_policy=media_policy or "public",
        metadata=metadata or {},
        enable_dvr_mode=bool(dvr),
        enable_recording=True if recording is None else recording,
    )


@dataclass(frozen=True, slots=True)
class UpdateStream:
    metadata: dict[str, str] | None  # None = leave unchanged; {} = clear (A5)
    reconnect_window: int | None


def parse_update_stream(body: dict[str, Any]) -> UpdateStream:
    """`PATCH /live/streams/{id}`: only `metadata` and `reconnectWindow` (contract §3.5)."""
    problems = Problems()
    metadata = check_metadata(body.get("metadata"), "metadata", problems)
    window = check_reconnect_window(body.get("reconnectWindow"), "reconnectWindow", problems)
    problems.raise_if_any()
    return UpdateStream(metadata=metadata, reconnect_window=window)


@dataclass(frozen=True, slots=True)
class CreatePlayback:
    access_policy: str
    access_restrictions: dict[str, Any] | None


def parse_create_playback(body: dict[str, Any]) -> CreatePlayback:
    problems = Problems()
    policy = check_choice(body.get("accessPolicy"), "accessPolicy", POLICIES, problems)
    restrictions = check_access_restrictions(body.get("accessRestrictions"), "accessRestrictions", problems)
    problems.raise_if_any()
    return CreatePlayback(access_policy=policy or "public", access_restrictions=restrictions)


def require_playback_id(value: str | None) -> str:
    if not value:
        raise ApiError.validation([FieldError("playbackId", "must not be null")])
    return value


@dataclass(frozen=True, slots=True)
class CreateSimulcast:
    url: str
    stream_key: str
    metadata: dict[str, str]


def parse_create_simulcast(body: dict[str, Any]) -> CreateSimulcast:
    problems = Problems()
    values: dict[str, str] = {}
    for name in ("url", "streamKey"):
        value = body.get(name)
        if value is None:
            problems.add(name, "must not be null")
        elif not isinstance(value, str) or not value.strip():
            problems.add(name, "must not be blank")
        else:
            values[name] = value
    metadata = check_metadata(body.get("metadata"), "metadata", problems)
    problems.raise_if_any()
    return CreateSimulcast(url=values["url"], stream_key=values["streamKey"], metadata=metadata or {})


@dataclass(frozen=True, slots=True)
class UpdateSimulcast:
    is_enabled: bool | None
    metadata: dict[str, str] | None


def parse_update_simulcast(body: dict[str, Any]) -> UpdateSimulcast:
    problems = Problems()
    enabled = check_bool(body.get("isEnabled"), "isEnabled", problems)
    metadata = check_metadata(body.get("metadata"), "metadata", problems)
    problems.raise_if_any()
    return UpdateSimulcast(is_enabled=enabled, metadata=metadata)


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    offset: int
    order: Order


def _query_int(raw: str | None, field: str, default: int, problems: Problems) -> int | None:
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        problems.add(field, "must be an integer")
        return None
    return int(raw)


def parse_paging(query: dict[str, str]) -> Paging:
    """`limit` 1–50 (10), `offset` a 1-based page ≥1 (1), `orderBy` asc|desc (desc) — contract §1.8, A1."""
    problems = Problems()
    limit = _query_int(query.get("limit"), "limit", 10, problems)
    if limit is not None and not LIMIT_MIN <= limit <= LIMIT_MAX:
        problems.add("limit", f"must be between {LIMIT_MIN} and {LIMIT_MAX}")
    offset = _query_int(query.get("offset"), "offset", 1, problems)
    if offset is not None and offset < 1:
        problems.add("offset", "must be greater than or equal to 1")
    order = check_choice(query.get("orderBy", "desc"), "orderBy", ORDERS, problems)
    problems.raise_if_any()
    assert limit is not None
    assert offset is not None
    return Paging(limit=limit, offset=offset, order="asc" if order == "asc" else "desc")
