"""No FastPix answer becomes a 500 page (issue 11, item 8).

FastPix answers that the client turns into a plain `ApiError` — a 409, a 408, a 413, or a 2xx that is not
JSON or has no `data` — are injected with emulator faults on every read a page makes. Each page, full or an
htmx fragment, then says what happened in words a person can act on: 502 when FastPix answered with
something the console cannot use, 503 when it is not answering (a 408 is FastPix timing out on us).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from emulator.testing import EmulatorControl

pytestmark = pytest.mark.django_db

READS = r"^/v1/(live/streams|on-demand)"  # every read a page of the console makes

HTMX = {"HTTP_HX_REQUEST": "true"}
RECORDING_ROWS = {**HTMX, "HTTP_HX_TARGET": "recording-rows"}
RECORDING_BODY = {**HTMX, "HTTP_HX_TARGET": "recording-body"}
SETTINGS_CARD = {**HTMX, "HTTP_HX_TARGET": "settings-card"}

UNREADABLE = "FastPix sent an answer the console cannot read"
UNREADABLE_WHY = "FastPix answered, but not in the form its API promises, so there is nothing to show."
UNEXPECTED = "FastPix gave an answer the console did not expect"
NOT_ANSWERING = "FastPix is not answering — retrying"


@dataclass(frozen=True)
class Answer:
    """A FastPix answer (an emulator fault), and what a person then reads on a page and with which status."""

    fault: dict[str, Any]
    status: int  # of a full page
    heading: str
    sentence: str
    # The client reads a list answer's `data` leniently: JSON without a `data` list reads as an empty list.
    lists: bool = True


ANSWERS = {
    "409": Answer(
        {"status": 409}, 502, UNEXPECTED, "FastPix answered 409 (data conflict), which the console"
    ),
    "413": Answer(
        {"status": 413}, 502, UNEXPECTED, "FastPix answered 413 (request body too large), which the console"
    ),
    "408": Answer({"status": 408}, 503, NOT_ANSWERING, "The console could not reach FastPix just now."),
    "200-not-json": Answer(
        {"raw_body": "<html><body>Service maintenance</body></html>", "content_type": "text/html"},
        502,
        UNREADABLE,
        UNREADABLE_WHY,
    ),
    "200-json-without-data": Answer(
        {"raw_body": '{"success": true}', "content_type": "application/json"},
        502,
        UNREADABLE,
        UNREADABLE_WHY,
        lists=False,
    ),
    "200-data-not-an-object": Answer(
        {"raw_body": '{"success": true, "data": "ok"}', "content_type": "application/json"},
        502,
        UNREADABLE,
        UNREADABLE_WHY,
        lists=False,
    ),
    "201-empty": Answer({"raw_body": "", "status": 201}, 502, UNREADABLE, UNREADABLE_WHY),
    "200-a-json-list": Answer(
        {"raw_body": "[]", "content_type": "application/json"}, 502, UNREADABLE, UNREADABLE_WHY
    ),
}


def text(response: Any) -> str:
    """What a person reads: the markup without tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def workspace(emulator: EmulatorControl) -> dict[str, str]:
    stream = emulator.create_stream(status="active", views=4, metadata={"livestream_name": "Main stage"})
    media = emulator.create_media(stream["streamId"])
    return {"stream": stream["streamId"], "media": media["id"]}


def fail_every_read(emulator: EmulatorControl, answer: Answer) -> None:
    emulator.add_fault(READS, method="GET", times=None, **answer.fault)


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
def test_full_pages_explain_the_answer_with_a_banner_never_a_500(
    admin_client: Client, emulator: EmulatorControl, workspace: dict[str, str], answer: Answer
) -> None:
    fail_every_read(emulator, answer)
    stream_id, media_id = workspace["stream"], workspace["media"]
    lists = ["/streams/", "/recordings/"] if answer.lists else []
    for url in [
        *lists,
        f"/streams/{stream_id}/",
        f"/streams/{stream_id}/edit/",
        f"/streams/{stream_id}/recordings/",
        f"/recordings/{media_id}/",
    ]:
        response = admin_client.get(url)
        assert response.status_code == answer.status, (url, response.status_code)
        page = text(response)
        assert answer.heading in page, url
        assert answer.sentence in page, url
        assert "Try again now" in page, url
        assert '<nav class="main-nav"' in response.content.decode(), url  # the frame still renders


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
def test_htmx_fragments_and_polls_explain_the_answer_never_a_500(
    admin_client: Client, emulator: EmulatorControl, workspace: dict[str, str], answer: Answer
) -> None:
    fail_every_read(emulator, answer)
    stream_id, media_id = workspace["stream"], workspace["media"]
    # htmx swaps a 502 (the page's responseHandling) but not a 503: the banner then comes with a 200.
    swapped = 502 if answer.status == 502 else 200
    for url, headers in (
        (f"/streams/{stream_id}/edit/", SETTINGS_CARD),
        (f"/recordings/{media_id}/", RECORDING_BODY),
    ):
        response = admin_client.get(url, **headers)
        assert response.status_code == swapped, (url, response.status_code)
        assert response["HX-Retarget"] == "#messages", url
        assert text(response).startswith(f"{answer.heading} {answer.sentence}"), url
    # The polls say what FastPix answered, and keep polling.
    live = admin_client.get(f"/streams/{stream_id}/live/", **HTMX)
    assert live.status_code == 200
    assert f"{answer.heading}. Live numbers will update when it answers." in text(live)
    assert "hx-trigger" in live.content.decode()  # still polling
    rows = admin_client.get(f"/streams/{stream_id}/recordings/", **RECORDING_ROWS)
    assert rows.status_code == 200
    assert "FastPix did not return the recordings just now." in text(rows)
    if answer.lists:
        listing = admin_client.get("/streams/live/?page=1&size=10&order=newest", **HTMX)
        assert listing.status_code == 200
        assert answer.heading in text(listing)


def test_a_row_whose_id_fastpix_should_not_send_is_left_out_and_the_rest_of_the_list_renders(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    """A list answer with a stream id that cannot be one (a path in it): that row cannot be linked to or
    acted on, so it is left out; the other rows render."""
    good = "0123456789abcdef0123456789abcdef"
    body = {
        "success": True,
        "data": [
            {"streamId": "../v1/x", "status": "idle", "metadata": {"livestream_name": "Odd one"}},
            {"streamId": good, "status": "idle", "metadata": {"livestream_name": "Fine one"}},
        ],
        "pagination": {"totalRecords": 2, "currentOffset": 1, "offsetCount": 1},
    }
    emulator.add_fault(
        r"^/v1/live/streams$", method="GET", raw_body=json.dumps(body), content_type="application/json"
    )
    response = admin_client.get("/streams/")
    assert response.status_code == 200
    assert "Odd one" not in text(response)
    assert "../v1/x" not in response.content.decode()
    assert f'href="/streams/{good}/"' in response.content.decode()
