"""Edges of the create and edit forms: FastPix's own field names, characters as the spec counts them."""

import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.test_stream_create import create_data
from tests.test_stream_edit import edit_data

pytestmark = pytest.mark.django_db


def _fastpix_422(emulator: Any, method: str, path_regex: str, fields: list[dict[str, str]]) -> None:
    body = {
        "success": False,
        "error": {"code": 422, "message": "payload validation failed", "fields": fields},
    }
    emulator.add_fault(
        path_regex, method=method, status=422, raw_body=json.dumps(body), content_type="application/json"
    )


def _described(html: str, field_id: str) -> str:
    """The text of what the input `field_id` points at with aria-describedby (its hint and errors)."""
    tag = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', html)
    assert tag is not None, field_id
    described = re.search(r'aria-describedby="([^"]*)"', tag.group(0))
    if described is None:  # Django links errors only when there are some
        return ""
    return " ".join(
        re.sub(r"<[^>]+>", "", m.group(1))
        for part in described.group(1).split()
        for m in [re.search(rf'id="{part}"[^>]*>(.*?)</(?:ul|p|div)>', html, re.S)]
        if m
    )


def test_create_field_errors_named_as_fastpix_names_them_land_next_to_their_fields(
    admin_client: Client, emulator: Any
) -> None:
    # The emulator (and FastPix) name a create body's metadata as inputMediaSettings.metadata.<key>
    # (contract §7): the error belongs next to that row, and the name's next to the Name field.
    _fastpix_422(
        emulator,
        "POST",
        r"^/v1/live/streams$",
        [
            {"field": "inputMediaSettings.metadata.room", "message": "size must be between 0 and 255"},
            {"field": "inputMediaSettings.metadata.livestream_name", "message": "is reserved"},
        ],
    )
    response = admin_client.post("/streams/new/", create_data())
    html = response.content.decode()
    assert response.status_code == 422
    assert "FastPix: size must be between 0 and 255" in _described(html, "id_meta-0-value")
    assert "FastPix: is reserved" in _described(html, "id_name")
    assert 'value="Hall B"' in html  # nothing typed is lost
    assert 'value="Main stage"' in html


def test_a_metadata_key_that_looks_like_a_setting_is_not_mistaken_for_it(
    admin_client: Client, emulator: Any
) -> None:
    data = create_data(**{"meta-0-key": "reconnectWindow", "meta-0-value": "x"})
    _fastpix_422(
        emulator,
        "POST",
        r"^/v1/live/streams$",
        [{"field": "inputMediaSettings.metadata.reconnectWindow", "message": "is not allowed"}],
    )
    html = admin_client.post("/streams/new/", data).content.decode()
    assert "FastPix: " not in _described(html, "id_reconnect_window")
    assert "FastPix: is not allowed" in _described(html, "id_meta-0-value")


def test_an_edit_field_error_for_a_field_the_form_lacks_is_still_shown(
    admin_client: Client, emulator: Any
) -> None:
    stream = emulator.create_stream(metadata={"a": "1"})
    _fastpix_422(
        emulator,
        "PATCH",
        rf"^/v1/live/streams/{stream['streamId']}$",
        [{"field": "metadata", "message": "must have at most 10 entries"}],
    )
    response = admin_client.post(f"/streams/{stream['streamId']}/edit/", edit_data(stream, [("a", "2")], 90))
    assert response.status_code == 422
    assert "must have at most 10 entries" in response.content.decode()


def _input_maxlengths(html: str) -> dict[str, int]:
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        limit = re.search(r'maxlength="(\d+)"', tag)
        if name and limit:
            found[name.group(1)] = int(limit.group(1))
    return found


def test_the_browser_is_never_told_a_limit_stricter_than_255_characters(
    admin_client: Client, emulator: Any
) -> None:
    # The spec's maxLength counts characters; an HTML maxlength counts UTF-16 code units, so
    # maxlength="255" stops at 127 emoji and silently truncates a paste the spec would accept.
    spec_valid = "🎬" * 255
    stream = emulator.create_stream(metadata={"livestream_name": spec_valid, spec_valid: "v"})
    for url in ("/streams/new/", f"/streams/{stream['streamId']}/edit/"):
        limits = _input_maxlengths(admin_client.get(url).content.decode())
        too_strict = {name: n for name, n in limits.items() if n < len(spec_valid.encode("utf-16-le")) // 2}
        assert too_strict == {}, url
    # and the server takes 255 of them in each place
    data = create_data(name=spec_valid, **{"meta-0-key": spec_valid, "meta-0-value": spec_valid})
    response = admin_client.post("/streams/new/", data)
    assert response.status_code == 302
    created = emulator.stream_state(response["Location"].rstrip("/").rsplit("/", 1)[-1])["stream"]
    assert created["metadata"] == {"livestream_name": spec_valid, spec_valid: spec_valid}


def test_keys_fastpix_holds_are_saved_as_they_are(admin_client: Client, emulator: Any) -> None:
    # A key with surrounding spaces is a valid key (the spec puts no rule on keys); saving the form
    # unchanged must neither rename it nor call it a duplicate of its trimmed twin.
    stream = emulator.create_stream(metadata={"room": "1", " room ": "2"}, reconnectWindow=60)
    data = edit_data(stream, [("room", "1"), (" room ", "2")], 90)
    response = admin_client.post(f"/streams/{stream['streamId']}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    state = emulator.stream_state(stream["streamId"])["stream"]
    assert state["metadata"] == {"room": "1", " room ": "2"}
    assert state["reconnectWindow"] == 90


@pytest.mark.parametrize("key", ["", "   "])
def test_a_value_without_a_real_key_is_refused_and_kept(
    admin_client: Client, emulator: Any, key: str
) -> None:
    data = create_data(**{"meta-0-key": key, "meta-0-value": "orphan"})
    response = admin_client.post("/streams/new/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Give this value a key" in html
    assert 'value="orphan"' in html
    assert [r for r in emulator.requests() if r["method"] == "POST"] == []


def test_the_reconnect_window_of_a_live_stream_can_be_changed(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="active", metadata={"a": "1"})
    for window in (60, 1800):
        current = emulator.stream_state(stream["streamId"])["stream"]
        response = admin_client.post(
            f"/streams/{stream['streamId']}/edit/", edit_data(current, [("a", "1")], window)
        )
        assert response.status_code == 302
        assert emulator.stream_state(stream["streamId"])["stream"]["reconnectWindow"] == window
