"""One truth per page: every answer to an action, and every poll, shows status, viewers, buttons, the
count and the banner from the same read; a change upstream shows within one poll period."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from django.test import Client

from emulator.testing import EmulatorControl

pytestmark = pytest.mark.django_db

POLL = "/streams/live/?page=1&size=10&order=newest"


def delete_elsewhere(emulator_server: Any, stream_id: str) -> None:
    """Another console (or FastPix's own dashboard) deletes the stream."""
    response = httpx.delete(
        f"{emulator_server.api_base}/live/streams/{stream_id}",
        auth=(emulator_server.token_id, emulator_server.secret),
    )
    assert response.status_code == 200


def count_in(html: str) -> str:
    match = re.search(r'<span id="stream-count"[^>]*>([^<]*)</span>', html)
    assert match is not None, html
    return match.group(1)


def test_the_list_poll_drops_a_stream_deleted_elsewhere_and_updates_the_count(
    admin_client: Client, emulator: EmulatorControl, emulator_server: Any, settings: Any
) -> None:
    settings.LIST_SHARE_SECONDS = 0  # every poll reads FastPix (the share window is measured in bench/)
    kept = emulator.create_stream(status="idle", metadata={"livestream_name": "Kept"})["streamId"]
    gone = emulator.create_stream(status="active", metadata={"livestream_name": "Gone"})["streamId"]
    page = admin_client.get("/streams/").content.decode()
    assert count_in(page) == "2 streams"
    assert f'id="stream-{gone}"' in page

    delete_elsewhere(emulator_server, gone)
    poll = admin_client.get(POLL).content.decode()

    assert f'id="stream-{gone}"' not in poll
    assert f'id="stream-{kept}"' in poll
    assert count_in(poll) == "1 stream"
    assert '<span id="stream-count" hx-swap-oob="true">' in poll


def test_a_delete_from_this_console_shows_at_once_in_the_next_poll(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    # No share window to wait for: the shared table is keyed by the newest audit entry, in every process.
    stream_id = emulator.create_stream(status="idle", metadata={"livestream_name": "Old"})["streamId"]
    emulator.create_stream(status="idle", metadata={"livestream_name": "Other"})
    assert count_in(admin_client.get("/streams/").content.decode()) == "2 streams"
    admin_client.post(f"/streams/{stream_id}/delete/", {"confirm": "Old"})
    poll = admin_client.get(POLL).content.decode()
    assert f'id="stream-{stream_id}"' not in poll
    assert count_in(poll) == "1 stream"


def test_a_stream_that_goes_live_shows_live_with_its_finish_button_in_the_next_poll(
    producer_client: Client, emulator: EmulatorControl, settings: Any
) -> None:
    settings.LIST_SHARE_SECONDS = 0
    stream_id = emulator.create_stream(status="idle", metadata={"livestream_name": "Stage"})["streamId"]
    assert "badge-active" not in producer_client.get("/streams/").content.decode()
    emulator.connect(stream_id)
    emulator.go_live(stream_id)
    emulator.set_viewers(stream_id, 31)
    poll = producer_client.get(POLL).content.decode().replace("\n", "")
    row = re.search(rf'<tr id="stream-{stream_id}".*?</tr>', poll)
    assert row is not None
    assert '<span class="badge badge-active">Live</span>' in row.group(0)
    assert f'<td id="viewers-{stream_id}" class="num">31</td>' in row.group(0)
    assert f'href="/streams/{stream_id}/finish/?from=list"' in row.group(0)


def test_the_detail_poll_shows_status_viewers_and_buttons_from_one_read(
    producer_client: Client, emulator: EmulatorControl, settings: Any
) -> None:
    settings.LIST_SHARE_SECONDS = 0
    stream_id = emulator.create_stream(status="idle", metadata={"livestream_name": "Stage"})["streamId"]
    producer_client.get(f"/streams/{stream_id}/")
    emulator.connect(stream_id)
    emulator.go_live(stream_id)
    emulator.set_viewers(stream_id, 12)
    html = producer_client.get(f"/streams/{stream_id}/live/").content.decode()
    assert "badge-active" in html
    assert ">12<" in html.replace("\n", "")
    assert f'href="/streams/{stream_id}/finish/"' in html


def test_the_detail_poll_leaves_status_and_buttons_alone_when_fastpix_cannot_be_read(
    producer_client: Client, emulator: EmulatorControl, settings: Any
) -> None:
    settings.LIST_SHARE_SECONDS = 0
    stream_id = emulator.create_stream(status="active", metadata={"livestream_name": "Stage"})["streamId"]
    emulator.add_fault(f"/live/streams/{stream_id}$", method="GET", status=503, times=None)
    html = producer_client.get(f"/streams/{stream_id}/live/").content.decode()
    # Nothing known: no badge claims a state, no button is removed; the banner says why; polls slow down.
    assert 'id="stream-status"' not in html
    assert 'id="stream-actions"' not in html
    assert "FastPix is not answering" in html
    assert "load delay:30s" in html


def test_the_standalone_confirm_page_posts_a_plain_form_and_shows_the_result_on_the_stream_page(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = emulator.create_stream(status="active", metadata={"livestream_name": "Stage"})["streamId"]
    page = producer_client.get(f"/streams/{stream_id}/finish/").content.decode()
    form = re.search(r"<form[^>]*>", page[page.index('action="/streams/') - 40 :])
    assert form is not None
    assert "hx-post" not in form.group(0)  # no htmx answer swapped under a form still asking

    response = producer_client.post(f"/streams/{stream_id}/finish/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain == [(f"/streams/{stream_id}/", 302)]
    assert "Finished the broadcast of “Stage”." in html
    assert "Finish the broadcast of" not in html
    assert '<span class="badge badge-idle">Idle</span>' in html
    assert f'href="/streams/{stream_id}/finish/"' not in html
