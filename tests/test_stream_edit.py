"""Editing metadata and the reconnect window: limits before any call, replace semantics, conflicts."""

from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client

from streams.client import FieldError, ValidationFailed
from streams.forms import StreamSettingsForm, fingerprint, metadata_formset
from streams.models import AuditEntry
from streams.views.streams import _attach_field_errors

pytestmark = pytest.mark.django_db


def edit_data(
    stream: dict[str, Any], rows: list[tuple[str, str]], window: int | str, **extra: str
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reconnect_window": str(window),
        "original": fingerprint(stream.get("metadata", {}), stream["reconnectWindow"]),
        "meta-TOTAL_FORMS": str(len(rows)),
        "meta-INITIAL_FORMS": "0",
        "meta-MIN_NUM_FORMS": "0",
        "meta-MAX_NUM_FORMS": "50",
    }
    for i, (key, value) in enumerate(rows):
        data[f"meta-{i}-key"] = key
        data[f"meta-{i}-value"] = value
    data.update(extra)
    return data


def test_the_edit_form_shows_the_current_rows_and_window(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"}, reconnectWindow=90)
    html = admin_client.get(f"/streams/{stream['streamId']}/edit/").content.decode()
    assert 'value="livestream_name"' in html
    assert 'value="Main stage"' in html
    assert 'value="90"' in html
    assert "60–1800 seconds" in html


def test_saving_replaces_the_whole_map_and_sends_the_window(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(
        metadata={"livestream_name": "Main stage", "old": "x"}, reconnectWindow=90
    )
    data = edit_data(stream, [("livestream_name", "Main stage"), ("room", "Hall B")], 300)
    response = admin_client.post(f"/streams/{stream['streamId']}/edit/", data)
    assert response.status_code == 302
    state = emulator.stream_state(stream["streamId"])["stream"]
    assert state["metadata"] == {"livestream_name": "Main stage", "room": "Hall B"}
    assert state["reconnectWindow"] == 300
    entry = AuditEntry.objects.get(action="edit")
    assert entry.outcome == "done"
    assert entry.before == {"metadata": {"livestream_name": "Main stage", "old": "x"}, "reconnectWindow": 90}
    assert entry.after == {
        "metadata": {"livestream_name": "Main stage", "room": "Hall B"},
        "reconnectWindow": 300,
    }


def test_removing_a_row_removes_the_key(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(metadata={"a": "1", "b": "2"})
    data = edit_data(stream, [("a", "1"), ("b", "2")], 60, **{"meta-1-DELETE": "on"})
    admin_client.post(f"/streams/{stream['streamId']}/edit/", data)
    assert emulator.stream_state(stream["streamId"])["stream"]["metadata"] == {"a": "1"}


@pytest.mark.parametrize(
    ("rows", "window", "message"),
    [
        ([(f"k{n}", "v") for n in range(11)], 60, "at most 10 metadata entries"),
        ([("k", "v" * 256)], 60, "at most 255 characters"),
        ([("k" * 256, "v")], 60, "at most 255 characters"),
        ([("", "orphan value")], 60, "Give this value a key"),
        ([("dup", "1"), ("dup", "2")], 60, "is used twice"),
        ([("k", "v")], 59, "greater than or equal to 60"),
        ([("k", "v")], 1801, "less than or equal to 1800"),
        ([("k", "v")], "soon", "Enter a whole number"),
    ],
)
def test_invalid_input_is_explained_kept_and_never_sent(
    admin_client: Client, emulator: Any, rows: list[tuple[str, str]], window: Any, message: str
) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"})
    emulator.clear_requests()
    response = admin_client.post(f"/streams/{stream['streamId']}/edit/", edit_data(stream, rows, window))
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert f'value="{rows[0][0]}"' in html or rows[0][0] == ""
    assert [r for r in emulator.requests() if r["method"] == "PATCH"] == []


def test_adding_a_row_keeps_what_was_typed(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream()
    data = edit_data(stream, [("typed", "kept")], 75, add_row="1")
    html = admin_client.post(f"/streams/{stream['streamId']}/edit/", data).content.decode()
    assert 'value="typed"' in html
    assert 'value="75"' in html
    assert 'name="meta-1-key"' in html


def test_a_change_made_upstream_meanwhile_is_not_overwritten(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"})
    data = edit_data(stream, [("livestream_name", "Mine")], 60)
    from streams.client import get_client

    get_client().update_stream(
        stream["streamId"], metadata={"livestream_name": "Theirs"}, reconnect_window=60
    )
    response = admin_client.post(f"/streams/{stream['streamId']}/edit/", data)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone changed this stream while you were editing" in html
    assert "<dd>Theirs</dd>" in html  # their version
    assert 'value="Mine"' in html  # what the user typed
    assert emulator.stream_state(stream["streamId"])["stream"]["metadata"] == {"livestream_name": "Theirs"}
    # Saving again, having seen both, keeps the user's version.
    data2 = {**data, "original": fingerprint({"livestream_name": "Theirs"}, 60)}
    assert admin_client.post(f"/streams/{stream['streamId']}/edit/", data2).status_code == 302
    assert emulator.stream_state(stream["streamId"])["stream"]["metadata"] == {"livestream_name": "Mine"}


def test_a_disabled_stream_explains_why_it_cannot_be_edited(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="disabled")
    html = admin_client.get(f"/streams/{stream['streamId']}/edit/").content.decode()
    assert "FastPix does not allow editing a disabled stream" in html
    assert "<form method" not in html.split('id="settings-card"')[1]


def test_producers_and_reviewers_cannot_edit(producer_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream()
    assert producer_client.get(f"/streams/{stream['streamId']}/edit/").status_code == 403
    response = producer_client.post(
        f"/streams/{stream['streamId']}/edit/", edit_data(stream, [("a", "b")], 60)
    )
    assert response.status_code == 403


def test_hostile_metadata_round_trips_and_renders_inert(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream()
    hostile = {
        "livestream_name": '<script>alert("x")</script>',
        "quote": 'it\'s "quoted"',
        "long": "é" * 255,
        "emoji": "🎬🔥",
    }
    data = edit_data(stream, list(hostile.items()), 60)
    assert admin_client.post(f"/streams/{stream['streamId']}/edit/", data).status_code == 302
    assert emulator.stream_state(stream["streamId"])["stream"]["metadata"] == hostile
    html = admin_client.get(f"/streams/{stream['streamId']}/").content.decode()
    assert "<script>alert" not in html
    assert "🎬🔥" in html
    assert "é" * 255 in html


def test_fastpix_field_errors_land_next_to_the_field_they_name() -> None:
    # FastPix's own 422 (contract §7) cannot be provoked through a form that checks first, so the
    # mapping is tested on the typed error itself.
    form = StreamSettingsForm({"reconnect_window": "60", "original": ""})
    formset = metadata_formset(
        QueryDict("meta-TOTAL_FORMS=1&meta-INITIAL_FORMS=0&meta-0-key=room&meta-0-value=B")
    )
    assert form.is_valid()
    assert formset.is_valid()
    error = ValidationFailed(
        422,
        "payload validation failed",
        fields=(
            FieldError("reconnectWindow", "must be between 60 and 1800"),
            FieldError("metadata.room", "size must be between 0 and 255"),
        ),
    )
    _attach_field_errors(error, form, formset)
    assert form.errors["reconnect_window"] == ["FastPix: must be between 60 and 1800"]
    assert formset.forms[0].errors["value"] == ["FastPix: size must be between 0 and 255"]
