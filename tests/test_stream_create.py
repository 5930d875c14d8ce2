"""Creating a stream: one click creates one stream; a timeout is never retried blindly."""

import uuid
from typing import Any

import pytest
from django.test import Client

from streams.models import AuditEntry

pytestmark = pytest.mark.django_db


def create_data(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Main stage",
        "max_resolution": "720p",
        "reconnect_window": "120",
        "access_policy": "public",
        "media_policy": "private",
        "enable_recording": "on",
        "submission": str(uuid.uuid4()),
        "meta-TOTAL_FORMS": "1",
        "meta-INITIAL_FORMS": "0",
        "meta-MIN_NUM_FORMS": "0",
        "meta-MAX_NUM_FORMS": "50",
        "meta-0-key": "room",
        "meta-0-value": "Hall B",
    }
    data.update(fields)
    return data


def test_the_form_offers_every_setting_fastpix_accepts(admin_client: Client, emulator: Any) -> None:
    html = admin_client.get("/streams/new/").content.decode()
    for label in ("Name", "Maximum resolution", "Reconnect window", "Live playback", "Recordings", "DVR"):
        assert label in html
    assert 'name="submission"' in html


def test_creating_lands_on_the_new_streams_page(admin_client: Client, emulator: Any) -> None:
    response = admin_client.post("/streams/new/", create_data())
    assert response.status_code == 302
    stream_id = response["Location"].split("/")[2]
    stream = emulator.stream_state(stream_id)["stream"]
    assert stream["metadata"] == {"livestream_name": "Main stage", "room": "Hall B"}
    assert stream["maxResolution"] == "720p"
    assert stream["reconnectWindow"] == 120
    assert stream["mediaPolicy"] == "private"
    assert stream["enableRecording"] is True
    page = admin_client.get(response["Location"]).content.decode()
    assert "Created “Main stage”" in page
    assert AuditEntry.objects.get(action="create").outcome == "done"


def test_a_double_submit_creates_one_stream(admin_client: Client, emulator: Any) -> None:
    data = create_data()
    first = admin_client.post("/streams/new/", data)
    second = admin_client.post("/streams/new/", data)
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    assert len(emulator.requests(path_regex=r"^/v1/live/streams$", method="POST")) == 1


def test_invalid_input_is_explained_kept_and_never_sent(admin_client: Client, emulator: Any) -> None:
    emulator.clear_requests()
    data = create_data(reconnect_window="30", name="x" * 256, max_resolution="4k")
    response = admin_client.post("/streams/new/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "greater than or equal to 60" in html
    assert "at most 255 characters" in html
    assert "Select a valid choice" in html
    assert 'value="Hall B"' in html
    assert emulator.requests() == []


def test_the_name_counts_as_one_of_the_ten_metadata_entries(admin_client: Client, emulator: Any) -> None:
    rows = {"meta-TOTAL_FORMS": "10"}
    for n in range(10):
        rows[f"meta-{n}-key"] = f"k{n}"
        rows[f"meta-{n}-value"] = "v"
    html = admin_client.post("/streams/new/", create_data(**rows)).content.decode()
    assert "the name counts as one" in html


def test_a_timeout_is_not_retried_and_the_list_is_reread(admin_client: Client, emulator: Any) -> None:
    emulator.add_fault(path_regex=r"^/v1/live/streams$", method="POST", timeout=True, hang_seconds=3)
    response = admin_client.post("/streams/new/", create_data())
    html = response.content.decode()
    assert response.status_code == 504
    assert "FastPix did not answer in time" in html
    assert len(emulator.requests(path_regex=r"^/v1/live/streams$", method="POST")) == 1
    assert emulator.requests(path_regex=r"^/v1/live/streams$", method="GET")  # the list was re-read
    assert AuditEntry.objects.get(action="create").outcome == "unknown"


def test_a_certain_refusal_says_not_created_and_keeps_the_form(admin_client: Client, emulator: Any) -> None:
    emulator.add_fault(path_regex=r"^/v1/live/streams$", method="POST", status=413)
    response = admin_client.post("/streams/new/", create_data())
    assert response.status_code == 502
    assert "FastPix did not create the stream" in response.content.decode()
    assert 'value="Main stage"' in response.content.decode()
    assert AuditEntry.objects.get(action="create").outcome == "failed"
    assert emulator.requests(path_regex=r"^/v1/live/streams$", method="POST")[0]["status"] == 413
    # Not created: the same form may be sent again, and it creates the stream.
    response = admin_client.post("/streams/new/", create_data())
    assert response.status_code == 302
    assert len(emulator.requests(path_regex=r"^/v1/live/streams$", method="POST")) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 524])
def test_a_server_error_after_which_the_stream_exists_says_created(
    admin_client: Client, emulator: Any, status: int
) -> None:
    # FastPix created it, then answered with an error: the console finds it instead of saying "not created".
    emulator.add_fault(path_regex=r"^/v1/live/streams$", method="POST", status=status, apply=True)
    response = admin_client.post("/streams/new/", create_data(), follow=True)
    html = response.content.decode()
    assert "Created “Main stage”." in html
    assert "but the stream is in its list" in html
    streams = emulator.requests(path_regex=r"^/v1/live/streams$", method="POST")
    assert len(streams) == 1  # never sent again
    assert AuditEntry.objects.get(action="create").outcome == "done"


def test_a_server_error_with_no_stream_in_the_list_says_not_known_yet_and_how_to_check(
    admin_client: Client, emulator: Any
) -> None:
    emulator.add_fault(path_regex=r"^/v1/live/streams$", method="POST", status=500)
    data = create_data()
    response = admin_client.post("/streams/new/", data)
    html = response.content.decode()
    assert response.status_code == 504
    assert "Not known yet whether the stream was created." in html
    assert "The console did not send it again" in html
    assert 'value="Main stage"' in html  # nothing the user typed is lost
    assert AuditEntry.objects.get(action="create").outcome == "unknown"
    # Submitting the same form again looks first, then creates it once.
    response = admin_client.post("/streams/new/", data)
    assert response.status_code == 302
    assert len(emulator.requests(path_regex=r"^/v1/live/streams$", method="POST")) == 2
    assert len(emulator.requests(path_regex=r"^/v1/live/streams$", method="GET")) >= 2


def test_a_timeout_after_which_the_stream_exists_is_found_and_the_same_form_again_creates_nothing(
    admin_client: Client, emulator: Any
) -> None:
    emulator.add_fault(
        path_regex=r"^/v1/live/streams$", method="POST", timeout=True, hang_seconds=3, apply=True
    )
    data = create_data()
    first = admin_client.post("/streams/new/", data)
    assert first.status_code == 302
    stream_id = first["Location"].rstrip("/").rsplit("/", 1)[-1]
    again = admin_client.post("/streams/new/", data)
    assert again["Location"] == first["Location"]
    assert len(emulator.requests(path_regex=r"^/v1/live/streams$", method="POST")) == 1
    names = [
        e["action"] + ":" + e["outcome"]
        for e in AuditEntry.objects.order_by("id").values("action", "outcome")
    ]
    assert names == ["create:done", "create:duplicate"]
    assert emulator.stream_state(stream_id)["stream"]["status"] == "idle"


def test_a_stream_needs_a_name(admin_client: Client, emulator: Any) -> None:
    response = admin_client.post("/streams/new/", {**create_data(), "name": "   "})
    assert response.status_code == 200
    assert emulator.requests(method="POST") == []


def test_producers_cannot_create(producer_client: Client, emulator: Any) -> None:
    assert producer_client.get("/streams/new/").status_code == 403
    assert producer_client.post("/streams/new/", create_data()).status_code == 403
    assert emulator.requests(method="POST") == []


def test_fastpix_field_errors_land_next_to_the_fields_they_name(admin_client: Client, emulator: Any) -> None:
    import json
    import re

    body = {
        "success": False,
        "error": {
            "code": 422,
            "message": "payload validation failed",
            "fields": [
                {"field": "inputMediaSettings.reconnectWindow", "message": "must be at most 1800"},
                {"field": "inputMediaSettings.maxResolution", "message": "is not supported on this plan"},
                {"field": "metadata.room", "message": "is too long"},
                {"field": "playbackSettings.accessPolicy", "message": "must be public"},
            ],
        },
    }
    emulator.add_fault(
        r"^/v1/live/streams$",
        method="POST",
        status=422,
        raw_body=json.dumps(body),
        content_type="application/json",
    )
    response = admin_client.post("/streams/new/", create_data())
    html = response.content.decode()
    assert response.status_code == 422

    def error_after(field_id: str) -> str:
        # The field's own error, linked to it (aria-describedby), not a banner at the top.
        match = re.search(rf'id="{field_id}"[^>]*aria-describedby="([^"]*)"', html) or re.search(
            rf'aria-describedby="([^"]*)"[^>]*id="{field_id}"', html
        )
        assert match is not None, field_id
        described = " ".join(
            re.sub(r"<[^>]+>", "", m.group(1))
            for part in match.group(1).split()
            for m in [re.search(rf'id="{part}"[^>]*>(.*?)</', html, re.S)]
            if m
        )
        return described

    assert "FastPix: must be at most 1800" in error_after("id_reconnect_window")
    assert "FastPix: is not supported on this plan" in error_after("id_max_resolution")
    assert "FastPix: is too long" in html
    assert "FastPix: playbackSettings.accessPolicy must be public" in html
    assert AuditEntry.objects.get(action="create").outcome == "refused"


def test_recording_off_and_dvr_on_reach_fastpix_as_chosen(admin_client: Client, emulator: Any) -> None:
    data = create_data(enable_dvr_mode="on")
    data.pop("enable_recording")  # an unticked box is not sent
    response = admin_client.post("/streams/new/", data)
    stream_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    stream = emulator.stream_state(stream_id)["stream"]
    assert (stream["enableRecording"], stream["enableDvrMode"]) == (False, True)
