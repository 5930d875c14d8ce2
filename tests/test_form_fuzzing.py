"""Hypothesis throws arbitrary input at every form: never a 500, and invalid input sends nothing to
FastPix (checked with the emulator's request log)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(max_size=300)
field_value = st.one_of(
    text,
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.sampled_from(["", " ", "60", "1800", "1801", "59", "1080p", "4k", "public", "private", "on", "\x00"]),
)


def metadata_rows(draw_rows: list[tuple[str, str, bool]], total: str | None = None) -> dict[str, str]:
    data = {
        "meta-TOTAL_FORMS": total if total is not None else str(len(draw_rows)),
        "meta-INITIAL_FORMS": "0",
        "meta-MIN_NUM_FORMS": "0",
        "meta-MAX_NUM_FORMS": "50",
    }
    for i, (key, value, delete) in enumerate(draw_rows):
        data[f"meta-{i}-key"] = key
        data[f"meta-{i}-value"] = value
        if delete:
            data[f"meta-{i}-DELETE"] = "on"
    return data


rows = st.lists(st.tuples(text, text, st.booleans()), max_size=14)
noise = st.dictionaries(
    st.sampled_from(["meta-TOTAL_FORMS", "meta-INITIAL_FORMS", "csrfmiddlewaretoken", "add_row"]),
    field_value,
    max_size=2,
)


def mutating_calls(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["method"] != "GET"]


def clean(value: str) -> str:
    return value.replace("\x00", "")  # the test client cannot send NUL in a form body


@FUZZ
@given(
    fields=st.fixed_dictionaries(
        {
            "name": field_value,
            "max_resolution": field_value,
            "reconnect_window": field_value,
            "access_policy": field_value,
            "media_policy": field_value,
            "submission": st.one_of(st.uuids().map(str), field_value),
        },
        optional={"enable_recording": field_value, "enable_dvr_mode": field_value},
    ),
    metadata=rows,
    extra=noise,
)
def test_the_create_form_never_fails_and_sends_nothing_when_invalid(
    admin_client: Client, emulator: Any, fields: dict[str, str], metadata: list[Any], extra: dict[str, str]
) -> None:
    emulator.clear_requests()
    data = {k: clean(v) for k, v in {**fields, **metadata_rows(metadata), **extra}.items()}
    response = admin_client.post("/streams/new/", data)
    assert response.status_code < 500
    if response.status_code != 302:
        assert mutating_calls(emulator) == []


@FUZZ
@given(window=field_value, original=field_value, metadata=rows, extra=noise)
def test_the_edit_form_never_fails_and_sends_nothing_when_invalid(
    admin_client: Client,
    emulator: Any,
    window: str,
    original: str,
    metadata: list[Any],
    extra: dict[str, str],
) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"})
    emulator.clear_requests()
    data = {
        "reconnect_window": clean(window),
        "original": clean(original),
        **metadata_rows(metadata),
        **extra,
    }
    response = admin_client.post(
        f"/streams/{stream['streamId']}/edit/", {k: clean(v) for k, v in data.items()}
    )
    assert response.status_code < 500
    if response.status_code != 302:
        assert mutating_calls(emulator) == []


@FUZZ
@given(typed=field_value, extra=st.dictionaries(text, field_value, max_size=3))
def test_the_delete_confirmation_never_fails_and_sends_nothing_unless_the_name_matches(
    admin_client: Client, emulator: Any, typed: str, extra: dict[str, str]
) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"})
    emulator.clear_requests()
    data = {clean(k): clean(v) for k, v in extra.items()} | {"confirm": clean(typed)}
    response = admin_client.post(f"/streams/{stream['streamId']}/delete/", data)
    assert response.status_code < 500
    if clean(typed).strip() not in {"Main stage", stream["streamId"]}:
        assert mutating_calls(emulator) == []


@FUZZ
@given(secret=field_value)
def test_the_reveal_form_never_fails(producer_client: Client, emulator: Any, secret: str) -> None:
    stream = emulator.create_stream()
    response = producer_client.post(f"/streams/{stream['streamId']}/reveal/", {"secret": clean(secret)})
    assert response.status_code in {200, 400}
    assert mutating_calls(emulator) == []


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["page", "size", "order", "stream", "user", "action", "ready"]),
        field_value,
        max_size=4,
    )
)
def test_list_filters_never_fail(admin_client: Client, emulator: Any, params: dict[str, str]) -> None:
    query = {k: clean(v) for k, v in params.items()}
    for url in ("/streams/", "/streams/live/", "/recordings/", "/audit/"):
        assert admin_client.get(url, query).status_code < 500


@FUZZ
@given(username=field_value, password=field_value)
def test_the_login_form_never_fails(client: Client, username: str, password: str) -> None:
    response = client.post("/login/", {"username": clean(username), "password": clean(password)})
    assert response.status_code in {200, 302, 429}
