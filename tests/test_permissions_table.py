"""Role × view × method: the status every role gets from every view of the console."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_security import url_patterns

pytestmark = pytest.mark.django_db

ROLES = ("admin", "producer", "reviewer")
# (url name, url kwargs, method) → expected status for admin, producer, reviewer.
# POSTs carry no form data, so an allowed POST shows its form again (200/422) instead of acting,
# except the lifecycle actions, which act (302 back to the page) on an active stream.
TABLE: dict[tuple[str, tuple[tuple[str, str], ...], str], tuple[int, int, int]] = {
    ("stream-list", (), "GET"): (200, 200, 200),
    ("stream-list", (), "POST"): (405, 405, 405),
    ("stream-list-live", (), "GET"): (200, 200, 200),
    ("stream-list-live", (), "POST"): (405, 405, 405),
    ("stream-create", (), "GET"): (200, 403, 403),
    ("stream-create", (), "POST"): (200, 403, 403),
    ("stream-detail", (("stream_id", "S"),), "GET"): (200, 200, 200),
    ("stream-detail", (("stream_id", "S"),), "POST"): (405, 405, 405),
    ("stream-live", (("stream_id", "S"),), "GET"): (200, 200, 200),
    ("stream-live", (("stream_id", "S"),), "POST"): (405, 405, 405),
    ("stream-edit", (("stream_id", "S"),), "GET"): (200, 403, 403),
    ("stream-edit", (("stream_id", "S"),), "POST"): (200, 403, 403),
    ("stream-reveal", (("stream_id", "S"),), "GET"): (405, 405, 405),
    ("stream-reveal", (("stream_id", "S"),), "POST"): (400, 400, 403),
    ("stream-action", (("stream_id", "S"), ("action", "enable")), "GET"): (200, 200, 403),
    ("stream-action", (("stream_id", "S"), ("action", "disable")), "GET"): (200, 200, 403),
    ("stream-action", (("stream_id", "S"), ("action", "finish")), "GET"): (200, 200, 403),
    ("stream-action", (("stream_id", "S"), ("action", "delete")), "GET"): (200, 403, 403),
    ("stream-action", (("stream_id", "S"), ("action", "finish")), "POST"): (302, 302, 403),
    ("stream-action", (("stream_id", "S"), ("action", "delete")), "POST"): (422, 403, 403),
    ("stream-recordings", (("stream_id", "S"),), "GET"): (200, 200, 200),
    ("stream-recordings", (("stream_id", "S"),), "POST"): (405, 405, 405),
    ("stream-clips", (("stream_id", "S"),), "GET"): (200, 200, 200),
    ("stream-clips", (("stream_id", "S"),), "POST"): (405, 405, 405),
    ("wall", (), "GET"): (200, 200, 200),
    ("wall", (), "POST"): (405, 405, 405),
    ("recording-list", (), "GET"): (200, 200, 200),
    ("recording-list", (), "POST"): (405, 405, 405),
    ("recording-detail", (("media_id", "M"),), "GET"): (200, 200, 200),
    ("recording-detail", (("media_id", "M"),), "POST"): (405, 405, 405),
    ("audit-log", (), "GET"): (200, 403, 403),
    ("audit-log", (), "POST"): (405, 405, 405),
    ("event-list", (), "GET"): (200, 403, 403),
    ("event-list", (), "POST"): (405, 405, 405),
    ("event-reapply", (), "GET"): (405, 405, 405),
    ("event-reapply", (), "POST"): (302, 403, 403),
    ("fastpix-webhook", (), "GET"): (405, 405, 405),
    # No signing secret in the tests' settings: every delivery is refused, whoever sends it.
    ("fastpix-webhook", (), "POST"): (503, 503, 503),
    ("healthz", (), "GET"): (200, 200, 200),
    ("login", (), "GET"): (302, 302, 302),  # already signed in: on to the streams
    ("logout", (), "POST"): (302, 302, 302),
    ("logout", (), "GET"): (405, 405, 405),
}


def test_the_table_covers_every_view() -> None:
    assert {p.name for p in url_patterns() if p.name} == {name for name, _, _ in TABLE}


@pytest.mark.parametrize(
    ("key", "expected"),
    TABLE.items(),
    ids=lambda v: "-".join(map(str, v)) if isinstance(v, tuple) else str(v),
)
def test_each_role_gets_the_expected_status(
    client: Client,
    make_user: Any,
    emulator: Any,
    key: tuple[str, tuple[tuple[str, str], ...], str],
    expected: tuple[int, int, int],
) -> None:
    name, kwargs, method = key
    for role, status in zip(ROLES, expected, strict=True):
        stream = emulator.create_stream(status="active", views=9, metadata={"livestream_name": "Main stage"})
        media = emulator.create_media(stream["streamId"]) if name == "recording-detail" else None
        values = {"S": stream["streamId"], "M": media["id"] if media else ""}
        url = reverse(name, kwargs={k: values.get(v, v) for k, v in kwargs})
        client.force_login(make_user(role, f"{role}-{name}-{method}".lower()[:150]))
        response = client.get(url) if method == "GET" else client.post(url)
        assert response.status_code == status, (role, method, url)
        client.logout()
