"""The stream page: everything FastPix returns, secrets masked on the server, reveal by permission."""

from typing import Any

import pytest
from django.test import Client

from streams.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_the_detail_page_groups_what_fastpix_returns(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(
        status="active",
        views=214,
        reconnectWindow=120,
        metadata={"livestream_name": "Main stage", "room": "B"},
    )
    html = admin_client.get(f"/streams/{stream['streamId']}/").content.decode()
    assert "<h1>Main stage</h1>" in html
    assert "120 s" in html
    assert "<dt>room</dt><dd>B</dd>" in html
    assert 'class="viewers">214' in html.replace("\n", "")
    playback_id = stream["playbackIds"][0]["id"]
    assert f"https://stream.fastpix.com/{playback_id}.m3u8" in html
    assert f'src="https://play.fastpix.com/?playbackId={playback_id}"' in html
    assert "rtmps://live.fastpix.com:443/live" in html


def test_no_preview_when_the_stream_is_not_live(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    html = admin_client.get(f"/streams/{stream['streamId']}/").content.decode()
    assert "<iframe" not in html


@pytest.mark.parametrize("role", ["admin", "producer", "reviewer"])
def test_the_html_never_contains_the_secrets(
    client: Client, make_user: Any, emulator: Any, role: str
) -> None:
    client.force_login(make_user(role))
    stream = emulator.create_stream(status="active")
    html = client.get(f"/streams/{stream['streamId']}/").content.decode()
    assert stream["streamKey"] not in html
    assert stream["srtSecret"] not in html
    assert stream["srtPlaybackResponse"]["srtPlaybackSecret"] not in html
    assert "••••" in html


def test_a_reviewer_sees_no_reveal_or_edit_controls(reviewer_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream()
    html = reviewer_client.get(f"/streams/{stream['streamId']}/").content.decode()
    assert "Reveal" not in html
    assert ">Edit<" not in html
    assert "Your role cannot see ingest credentials" in html


def test_a_producer_reveals_the_stream_key_and_it_is_audited(producer_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"})
    response = producer_client.post(f"/streams/{stream['streamId']}/reveal/", {"secret": "stream_key"})
    html = response.content.decode()
    assert response.status_code == 200
    assert stream["streamKey"] in html
    assert stream["srtSecret"] not in html  # only the one asked for
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome, entry.stream_name) == ("reveal", "done", "Main stage")
    assert stream["streamKey"] not in entry.message


def test_a_reveal_over_htmx_returns_just_the_connection_card(producer_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream()
    response = producer_client.post(
        f"/streams/{stream['streamId']}/reveal/", {"secret": "srt_secret"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card wide" id="connection-card"')
    assert stream["srtSecret"] in html


def test_a_reviewer_cannot_reveal_even_with_a_forged_post(reviewer_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream()
    emulator.clear_requests()
    response = reviewer_client.post(f"/streams/{stream['streamId']}/reveal/", {"secret": "stream_key"})
    assert response.status_code == 403
    assert stream["streamKey"] not in response.content.decode()
    assert emulator.requests() == []


def test_reveal_refuses_get(producer_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream()
    assert producer_client.get(f"/streams/{stream['streamId']}/reveal/").status_code == 405


def test_an_unknown_stream_is_a_friendly_404(admin_client: Client, emulator: Any) -> None:
    response = admin_client.get("/streams/0123456789abcdef0123456789abcdef/")
    assert response.status_code == 404
    assert "This stream no longer exists" in response.content.decode()


def test_the_detail_poll_stops_when_the_stream_is_deleted(admin_client: Client, emulator: Any) -> None:
    response = admin_client.get("/streams/0123456789abcdef0123456789abcdef/live/")
    assert response.status_code == 286
    assert "This stream no longer exists" in response.content.decode()


def test_the_detail_poll_updates_status_viewers_and_actions(
    producer_client: Client, emulator: Any, settings: Any
) -> None:
    stream = emulator.create_stream(status="active", views=5)
    html = producer_client.get(f"/streams/{stream['streamId']}/live/").content.decode()
    assert '<span id="stream-status" hx-swap-oob="morph">' in html
    assert 'class="viewers" hx-swap-oob="morph">5' in html.replace("\n", "")
    assert "Finish broadcast" in html


def test_simulcast_targets_are_listed_without_their_stream_keys(
    admin_client: Client, emulator: Any, emulator_server: Any
) -> None:
    import httpx

    stream = emulator.create_stream()
    created = httpx.post(
        f"{emulator_server.api_base}/live/streams/{stream['streamId']}/simulcast",
        json={"url": "rtmp://live.example.com/app/", "streamKey": "third-party-key-123"},
        auth=(emulator_server.token_id, emulator_server.secret),
    )
    assert created.status_code == 201
    html = admin_client.get(f"/streams/{stream['streamId']}/").content.decode()
    assert "rtmp://live.example.com/app/" in html
    assert "third-party-key-123" not in html
