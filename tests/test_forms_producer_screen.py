"""Forms on the producer's screen (issue 11, item 11): a stream needs a name; hints and errors are linked to
their inputs; the metadata editor stops at 10 rows; one time format on the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone

from streams.forms import CreateStreamForm, metadata_formset
from streams.templatetags.console import clock, relative
from tests.test_stream_create import create_data  # the one valid create form of the suite

pytestmark = pytest.mark.django_db


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described: list[tuple[str, str]] = []  # (tag#id, a referenced id)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        for ref in (values.get("aria-describedby") or "").split():
            self.described.append((f"{tag}#{values.get('id') or values.get('name')}", ref))


def dangling_descriptions(html: str) -> list[tuple[str, str]]:
    parser = _Ids()
    parser.feed(html)
    assert parser.described, "nothing on the page has an aria-describedby"
    return [(element, ref) for element, ref in parser.described if ref not in parser.ids]


def rows(n: int, **extra: str) -> dict[str, str]:
    data = {"meta-TOTAL_FORMS": str(n), "meta-INITIAL_FORMS": "0"}
    for i in range(n):
        data[f"meta-{i}-key"] = f"k{i}"
        data[f"meta-{i}-value"] = str(i)
    return {**data, **extra}


# ---------------------------------------------------------------- 12: a stream needs a name


def test_the_create_form_needs_a_name() -> None:
    for name in ("", "   "):
        form = CreateStreamForm(create_data(name=name))
        assert not form.is_valid()
        assert form.errors["name"] == [
            "Give the stream a name: it is how you and your team will find it in the list."
        ]
    assert CreateStreamForm(create_data()).is_valid()


def test_a_create_without_a_name_says_so_by_the_field_and_keeps_everything_else(
    admin_client: Client, emulator: Any
) -> None:
    response = admin_client.post(
        "/streams/new/", create_data(name="", reconnect_window="300", **{"meta-0-value": "Hall C"})
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        '<ul class="errorlist" id="id_name_error"><li>Give the stream a name: it is how you and your team '
        "will find it in the list.</li></ul>" in html
    )
    assert 'aria-describedby="id_name_helptext id_name_error"' in html
    assert 'aria-invalid="true"' in html
    assert 'name="reconnect_window" value="300"' in html
    assert '<option value="720p" selected>' in html
    assert 'value="room"' in html
    assert 'value="Hall C"' in html
    assert emulator.requests(method="POST") == []  # nothing sent to FastPix


# ---------------------------------------------------------------- 10: hints and errors linked to inputs


def test_every_aria_describedby_on_the_create_page_names_an_id_that_exists(
    admin_client: Client, emulator: Any
) -> None:
    pages = {
        "blank form": admin_client.get("/streams/new/"),
        "errors": admin_client.post(
            "/streams/new/",
            create_data(name="", reconnect_window="5", **{"meta-0-key": "", "meta-0-value": "orphan"}),
        ),
        "too many rows": admin_client.post("/streams/new/", create_data(**rows(10))),
    }
    for what, response in pages.items():
        html = response.content.decode()
        assert dangling_descriptions(html) == [], what
    errors = pages["errors"].content.decode()
    assert 'id="id_reconnect_window_error"' in errors
    assert 'id="id_meta-0-key_error"' in errors
    assert 'id="meta-errors"' in pages["too many rows"].content.decode()


def test_every_aria_describedby_on_the_edit_page_names_an_id_that_exists(
    admin_client: Client, emulator: Any
) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage", "a": "1"})
    url = f"/streams/{stream['streamId']}/edit/"
    page = admin_client.get(url).content.decode()
    assert dangling_descriptions(page) == []
    original = page.split('name="original" value="', 1)[1].split('"', 1)[0]
    posted = admin_client.post(
        url,
        {"reconnect_window": "5", "original": original, **rows(2, **{"meta-1-key": ""})},
    )
    html = posted.content.decode()
    assert 'id="id_reconnect_window_error"' in html
    assert 'aria-describedby="id_reconnect_window_helptext id_reconnect_window_error"' in html
    assert 'aria-describedby="id_meta-1-key_error"' in html
    assert dangling_descriptions(html) == []
    too_many = admin_client.post(url, {"reconnect_window": "60", "original": original, **rows(11)})
    html = too_many.content.decode()
    assert 'aria-describedby="meta-hint meta-errors"' in html
    assert '<div class="form-error meta-errors" id="meta-errors" tabindex="-1" autofocus>' in html
    assert dangling_descriptions(html) == []


# ---------------------------------------------------------------- 7: the metadata editor's limit


def test_adding_a_row_stops_at_ten_and_nine_beside_the_name() -> None:
    edit = metadata_formset(rows(9), add_row=True)
    assert edit.total_form_count() == 10
    assert not edit.can_add_row
    full = metadata_formset(rows(10), add_row=True)
    assert full.total_form_count() == 10  # no eleventh row
    create = metadata_formset(rows(8), add_row=True, reserved_keys=frozenset({"livestream_name"}))
    assert create.total_form_count() == 9
    assert not create.can_add_row
    assert metadata_formset(rows(3), add_row=True).can_add_row


def test_a_full_map_opens_without_a_blank_row() -> None:
    ten = {f"k{i}": str(i) for i in range(10)}
    assert metadata_formset(initial=ten).total_form_count() == 10
    nine = {f"k{i}": str(i) for i in range(9)}
    assert metadata_formset(initial=nine).total_form_count() == 10
    assert metadata_formset().total_form_count() == 2


def test_the_edit_page_says_why_there_is_no_add_button_at_ten(admin_client: Client, emulator: Any) -> None:
    metadata = {"livestream_name": "Main stage", **{f"k{i}": str(i) for i in range(9)}}
    stream = emulator.create_stream(metadata=metadata)
    html = admin_client.get(f"/streams/{stream['streamId']}/edit/").content.decode()
    assert 'name="add_row"' not in html
    assert "FastPix keeps at most 10 metadata entries: to add another, remove one." in html
    fewer = emulator.create_stream(metadata={"livestream_name": "Side room"})
    html = admin_client.get(f"/streams/{fewer['streamId']}/edit/").content.decode()
    assert 'name="add_row"' in html
    assert 'aria-describedby="meta-limit"' in html


# ---------------------------------------------------------------- 8: one time format


def test_times_read_as_local_clock_time_with_the_relative_time_on_hover(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Paris"
    now = timezone.now()
    when = datetime(2026, 11, 29, 13, 5, 42, 123456, tzinfo=UTC)
    with timezone.override("Europe/Paris"):
        assert clock(when) == "29 Nov 2026, 14:05"
        html = Template("{% load console %}{% when value %}").render(Context({"value": when}))
    assert html.startswith('<time datetime="2026-11-29T13:05:42+00:00" title="')
    assert html.endswith('" data-local>29 Nov 2026, 14:05</time>')
    assert Template("{% load console %}{% when value %}").render(Context({"value": None})) == "—"
    assert relative(now - timedelta(seconds=30), now) == "just now"
    assert relative(now - timedelta(minutes=1), now) == "1 minute ago"
    assert relative(now - timedelta(hours=3, minutes=59), now) == "3 hours ago"
    assert relative(now - timedelta(days=2), now) == "2 days ago"
    assert relative(now - timedelta(days=400), now) == "1 year ago"
    assert relative(now + timedelta(minutes=5), now) == "in 5 minutes"
