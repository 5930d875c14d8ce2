"""Assertions shared by the emulator tests."""

from __future__ import annotations

import re
from typing import Any

import httpx

HEX32 = re.compile(r"[0-9a-f]{32}")
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def assert_error(response: httpx.Response, status: int, message: str, description: str | None = None) -> None:
    """The vendor envelope (contract §1.4), always as application/json."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == status
    assert body["error"]["message"] == message
    if description is not None:
        assert body["error"]["description"] == description


def assert_fields(response: httpx.Response, *expected: tuple[str, str]) -> None:
    """A 422 `payload validation failed` naming exactly these `{field, message}` pairs."""
    assert_error(response, 422, "payload validation failed")
    fields = [(item["field"], item["message"]) for item in response.json()["error"]["fields"]]
    assert sorted(fields) == sorted(expected)


def data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True
    return body["data"]
