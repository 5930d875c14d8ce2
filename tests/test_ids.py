"""Ids are checked at the URL (issue 11, item 7): a stream id is 32 lowercase hex characters, a media id a
UUID; anything else is the styled 404 page, and FastPix is never asked.

Paths are written as a browser or a proxy would send them (percent-encoded); Django decodes them before
routing, as a WSGI server does. The emulator's request log proves that nothing went upstream.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client

from emulator.testing import EmulatorControl
from streams.models import AuditEntry

pytestmark = pytest.mark.django_db

# Where a stream id goes, with the methods each page answers.
STREAM_URLS = [
    ("/streams/{id}/", "get"),
    ("/streams/{id}/live/", "get"),
    ("/streams/{id}/edit/", "get"),
    ("/streams/{id}/edit/", "post"),
    ("/streams/{id}/reveal/", "post"),
    ("/streams/{id}/recordings/", "get"),
    ("/streams/{id}/clips/", "get"),
    *[(f"/streams/{{id}}/{action}/", method) for action in ("enable", "disable", "finish", "delete")
      for method in ("get", "post")],
]  # fmt: skip

# Ids that are not a FastPix stream id, as they appear in the raw request path.
BAD_STREAM_IDS = {
    "dot": "%2e",
    "dot-dot": "..",
    "encoded-dot-dot": "%2E%2E",
    "cr-lf": "%0d%0a",
    "cr-lf-after-a-good-id": "0123456789abcdef0123456789abcdef%0d%0aX-Injected:%201",
    "lf-after-a-good-id": "0123456789abcdef0123456789abcdef%0a",
    "nul": "%00",
    "nul-after-a-good-id": "0123456789abcdef0123456789abcdef%00",
    "4000-characters": "a" * 4000,
    "31-hex": "0" * 31,
    "33-hex": "0" * 33,
    "a-uuid": "8d7a3a0c-5a2e-4a53-9a4b-000000000000",
    "not-hex": "g" * 32,
    "space": "0123456789abcdef%200123456789abcde",
}

BAD_MEDIA_IDS = {
    "dot": "%2e",
    "dot-dot": "..",
    "encoded-dot-dot": "%2E%2E",
    "cr-lf": "%0d%0a",
    "lf-after-a-good-id": "8d7a3a0c-5a2e-4a53-9a4b-000000000000%0a",
    "nul-after-a-good-id": "8d7a3a0c-5a2e-4a53-9a4b-000000000000%00",
    "4000-characters": "a" * 4000,
    "a-stream-id": "0123456789abcdef0123456789abcdef",
    "no-dashes": "8d7a3a0c5a2e4a539a4b000000000000",
    "too-short": "8d7a3a0c-5a2e-4a53-9a4b-00000000000",
    "not-hex": "8d7a3a0c-5a2e-4a53-9a4b-00000000000g",
}


@pytest.fixture
def stream_id(emulator: EmulatorControl) -> str:
    """A stream FastPix knows, live, with a recording: every page of it would call FastPix."""
    stream = emulator.create_stream(status="active", views=3, metadata={"livestream_name": "Main stage"})
    while not any(char in "abcdef" for char in stream["streamId"]):  # one in three million: all digits
        stream = emulator.create_stream(status="active", metadata={"livestream_name": "Main stage"})
    emulator.create_media(stream["streamId"])
    emulator.clear_requests()
    return str(stream["streamId"])


def assert_not_found_page(response: Any, url: str) -> None:
    """The console's styled 404: the page frame, a heading and a way back, not a stream's own 404."""
    html = response.content.decode()
    assert response.status_code == 404, (url, response.status_code)
    assert "<h1>Page not found</h1>" in html, url
    assert "There is nothing at this address." in html, url
    assert '<a href="/streams/">Back to streams</a>' in html, url
    assert "This stream no longer exists" not in html, url


def one_letter_uppercased(value: str) -> str:
    at = next(i for i, char in enumerate(value) if char in "abcdef")
    return value[:at] + value[at].upper() + value[at + 1 :]


def request(client: Client, method: str, url: str) -> Any:
    return getattr(client, method)(url, HTTP_HX_REQUEST="true" if url.endswith("/live/") else None)


@pytest.mark.parametrize("bad", BAD_STREAM_IDS.values(), ids=BAD_STREAM_IDS.keys())
def test_a_malformed_stream_id_is_a_404_on_every_stream_url_with_no_call_upstream(
    admin_client: Client, emulator: EmulatorControl, stream_id: str, bad: str
) -> None:
    for template, method in STREAM_URLS:
        url = template.format(id=bad)
        assert_not_found_page(request(admin_client, method, url), f"{method.upper()} {url}")
    assert emulator.requests() == []
    assert not AuditEntry.objects.exists()
    assert emulator.stream_state(stream_id)["stream"]["status"] == "active"


def test_an_uppercase_stream_id_is_a_404_though_the_stream_exists_in_lowercase(
    admin_client: Client, emulator: EmulatorControl, stream_id: str
) -> None:
    """FastPix sends ids in lowercase and the console links to them so: one address per stream."""
    for template, method in STREAM_URLS:
        for variant in (stream_id.upper(), one_letter_uppercased(stream_id)):
            url = template.format(id=variant)
            assert_not_found_page(request(admin_client, method, url), f"{method.upper()} {url}")
    assert emulator.requests() == []
    assert emulator.stream_state(stream_id)["stream"]["status"] == "active"
    # The lowercase id is the stream's address; a well-formed id FastPix does not know is FastPix's to answer.
    assert "Main stage" in admin_client.get(f"/streams/{stream_id}/").content.decode()
    response = admin_client.get(f"/streams/{'0' * 32}/")
    assert (response.status_code, "This stream no longer exists" in response.content.decode()) == (404, True)
    asked = {r["path"].split("/")[4] for r in emulator.requests()}  # /v1/live/streams/<id>[/…]
    assert asked == {stream_id, "0" * 32}


# `..` and `.` in every position: as the id of a page, between segments, escaping towards FastPix's paths.
DOT_SEGMENT_URLS = [
    "/streams/%2e%2e/edit/",
    "/streams/../finish/",
    "/streams/%2e/delete/",
    "/streams/..%2f..%2fv1%2flive%2fstreams/",
    "/streams/..%2f..%2fv1%2flive%2fstreams%2f{id}/finish/",
    "/streams/{id}/%2e%2e/",
    "/streams/{id}/../",
    "/streams/{id}/..%2ffinish/",
    "/streams/{id}/finish/..%2f..%2f",
    "/streams/%2e%2e/{id}/",
    "/streams/%2e%2e/{id}/finish/",
    "/streams/{id}/%2e/finish/",
    "/streams/{id}/recordings/%2e%2e/",
    "/streams/{id}/FINISH/",
    "/recordings/%2e%2e/",
    "/recordings/%2e%2e/{id}/",
    "/recordings/..%2f..%2fv1%2fon-demand/",
]


def test_dot_segments_anywhere_are_a_404_with_no_call_upstream(
    admin_client: Client, emulator: EmulatorControl, stream_id: str
) -> None:
    for url in DOT_SEGMENT_URLS:
        target = url.format(id=stream_id)
        for method in ("get", "post"):
            assert_not_found_page(getattr(admin_client, method)(target), f"{method.upper()} {target}")
    assert emulator.requests() == []
    assert emulator.stream_state(stream_id)["stream"]["status"] == "active"


@pytest.mark.parametrize("bad", BAD_MEDIA_IDS.values(), ids=BAD_MEDIA_IDS.keys())
def test_a_malformed_media_id_is_a_404_with_no_call_upstream(
    admin_client: Client, emulator: EmulatorControl, bad: str
) -> None:
    emulator.clear_requests()
    url = f"/recordings/{bad}/"
    for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "recording-body"}):
        assert_not_found_page(admin_client.get(url, **headers), url)
    assert emulator.requests() == []


def test_an_uppercase_media_id_is_a_404_though_the_recording_exists_in_lowercase(
    admin_client: Client, emulator: EmulatorControl, stream_id: str
) -> None:
    media_id = emulator.create_media(stream_id)["id"]
    emulator.clear_requests()
    assert_not_found_page(admin_client.get(f"/recordings/{media_id.upper()}/"), media_id.upper())
    assert emulator.requests() == []
    assert admin_client.get(f"/recordings/{media_id}/").status_code == 200  # the lowercase id plays
    response = admin_client.get(f"/recordings/{uuid.uuid4()}/")
    assert (response.status_code, "There is no such recording" in response.content.decode()) == (404, True)


def test_an_old_audit_entry_for_a_malformed_id_still_shows_and_its_link_calls_nothing(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    """Before ids were checked, a refusal for `/streams/%2e/` could be audited: the log still opens."""
    AuditEntry.objects.create(username="ann", action="finish", stream_id=".", outcome="refused")
    response = admin_client.get("/audit/")
    assert response.status_code == 200
    assert '<a class="mono" href="/streams/./">.</a>' in response.content.decode()
    emulator.clear_requests()
    assert_not_found_page(admin_client.get("/streams/%2E/"), "/streams/%2E/")
    assert emulator.requests() == []
