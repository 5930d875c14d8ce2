"""Recordings and live clips: the stream page's fragment, the player page, and /recordings/ (issue 6).

Everything runs against the real emulator over HTTP; recordings and clips are put there through its control
API, faults are injected on the exact media path.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from streams.client import get_client

pytestmark = pytest.mark.django_db

FRAGMENT = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "recording-rows"}
POLL = {**FRAGMENT, "HTTP_HX_TRIGGER": "recordings-poller"}
CLIPS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "clip-rows"}


def _at(minutes_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def _stream(emulator: Any, name: str = "Main stage", **fields: Any) -> dict[str, Any]:
    return emulator.create_stream(metadata={"livestream_name": name}, **fields)


def _recording(emulator: Any, stream_id: str, status: str = "Ready", **fields: Any) -> dict[str, Any]:
    media: dict[str, Any] = emulator.create_media(stream_id, status=status, **fields)
    return media


def _playback_id(media: dict[str, Any]) -> str:
    playback_id: str = media["playbackIds"][0]["id"]
    return playback_id


def _row(html: str, media_id: str) -> str:
    match = re.search(rf'<tr id="media-{media_id}".*?</tr>', html, re.S)
    assert match, f"no row for {media_id}"
    return match.group(0)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# ---------------------------------------------------------------- the stream page's recordings


def test_the_stream_page_loads_its_recordings_after_the_page(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator)
    _recording(emulator, stream["streamId"])
    html = reviewer_client.get(f"/streams/{stream['streamId']}/").content.decode()
    section = html[html.index('id="stream-recordings"') :]
    recordings_url = f"/streams/{stream['streamId']}/recordings/"
    assert f'<div id="recording-rows" hx-get="{recordings_url}" hx-trigger="load"' in section
    assert f'<a href="{recordings_url}">Show the recordings</a>' in section  # the no-JS way in
    assert f'hx-get="/streams/{stream["streamId"]}/clips/" hx-trigger="load"' in section
    assert emulator.requests(path_regex="/on-demand/") == []  # no media call slows the page itself


def test_the_fragment_lists_recordings_newest_first_with_status_duration_and_play(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator)
    oldest = _recording(emulator, stream["streamId"], "Ready", duration_seconds=3723, created_at=_at(90))
    failed = _recording(emulator, stream["streamId"], "Failed", created_at=_at(60))
    newest = _recording(emulator, stream["streamId"], "Processing", created_at=_at(30))

    response = reviewer_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT)
    html = response.content.decode()

    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="recording-rows"')
    ids = re.findall(r'<tr id="media-([0-9a-f-]+)"', html)
    assert ids == [newest["id"], failed["id"], oldest["id"]]
    ready_row = _row(html, oldest["id"])
    assert '<span class="badge badge-ready">Ready</span>' in ready_row
    assert "1 h 02 min 03 s" in ready_row
    assert f'href="/recordings/{oldest["id"]}/">Play' in ready_row
    assert (
        f'<img class="thumb" src="https://images.fastpix.com/{_playback_id(oldest)}/thumbnail.png" alt=""'
        in (ready_row)
    )
    assert 'width="128" height="72"' in ready_row
    assert '<span class="badge badge-failed">Failed</span>' in _row(html, failed["id"])
    assert '<span class="badge badge-processing">Processing</span>' in _row(html, newest["id"])
    assert ">Play<" not in _row(html, newest["id"])  # nothing to play yet: its page says when


def test_recordings_are_ordered_by_when_they_were_made_not_by_their_place_in_media_ids(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator)
    newer = _recording(emulator, stream["streamId"], created_at=_at(10))  # appended first
    older = _recording(emulator, stream["streamId"], created_at=_at(120))  # appended last
    html = reviewer_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT).content.decode()
    assert re.findall(r'<tr id="media-([0-9a-f-]+)"', html) == [newer["id"], older["id"]]


def test_the_media_calls_are_made_side_by_side(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator)
    for _ in range(4):
        _recording(emulator, stream["streamId"])
    emulator.add_fault(r"^/v1/on-demand/[0-9a-f-]{36}$", latency_ms=500, times=None)

    reviewer_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT)

    calls = emulator.requests(path_regex=r"^/v1/on-demand/")
    assert len(calls) == 4
    starts = sorted(datetime.fromisoformat(call["time"].replace("Z", "+00:00")) for call in calls)
    first_end = starts[0] + timedelta(milliseconds=min(call["durationMs"] for call in calls))
    assert starts[-1] < first_end  # the last call began before the first one finished


def test_the_fragment_polls_while_a_recording_processes_and_stops_when_it_is_ready(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator)
    media = _recording(emulator, stream["streamId"], "Processing")
    url = f"/streams/{stream['streamId']}/recordings/"

    html = reviewer_client.get(url, **FRAGMENT).content.decode()
    assert (
        f'<div id="recordings-poller" data-poll hx-get="{url}" hx-trigger="load delay:5s, poll-resume"'
        ' hx-target="#recording-rows" hx-swap="outerHTML">'
    ) in html

    emulator.set_media_status(media["id"], "Ready")
    response = reviewer_client.get(url, **POLL)
    html = response.content.decode()
    assert response.status_code == 286  # htmx: stop polling
    assert '<span class="badge badge-ready">Ready</span>' in html
    assert "recordings-poller" not in html


def test_a_finished_stream_with_only_final_recordings_is_not_polled(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator)
    _recording(emulator, stream["streamId"], "Ready")
    _recording(emulator, stream["streamId"], "Failed")
    response = reviewer_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT)
    assert response.status_code == 200
    assert "data-poll" not in response.content.decode()


def test_one_failing_media_call_shows_only_that_row_unavailable_with_a_retry(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator)
    broken = _recording(emulator, stream["streamId"], created_at=_at(20))
    fine = _recording(emulator, stream["streamId"], created_at=_at(10))
    emulator.add_fault(rf"^/v1/on-demand/{broken['id']}$", status=500, times=None)
    url = f"/streams/{stream['streamId']}/recordings/"

    response = reviewer_client.get(url, **FRAGMENT)
    html = response.content.decode()

    assert response.status_code == 200
    broken_row = _row(html, broken["id"])
    assert '<span class="badge badge-unavailable">Unavailable</span>' in broken_row
    assert "FastPix did not return this recording just now." in broken_row
    assert (
        f'<a class="button small" href="{url}" hx-get="{url}" hx-target="#recording-rows" hx-swap="outerHTML">Retry</a>'
        in broken_row
    )
    assert f'href="/recordings/{fine["id"]}/">Play' in _row(html, fine["id"])

    emulator.clear_faults()
    html = reviewer_client.get(url, **FRAGMENT).content.decode()
    assert f'href="/recordings/{broken["id"]}/">Play' in _row(html, broken["id"])


def test_a_stream_without_recordings_says_so(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator)
    html = reviewer_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT).content.decode()
    assert "No recordings yet. FastPix records each broadcast when it ends." in html
    assert "<table" not in html


def test_a_live_stream_keeps_looking_for_the_recording_its_broadcast_will_leave(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator, status="active")
    html = reviewer_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT).content.decode()
    assert "FastPix adds this broadcast's recording here when it ends." in html
    assert 'hx-trigger="load delay:30s, poll-resume"' in html


def test_a_finished_broadcast_appears_as_a_recording(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator, status="active", liveSeconds=125)
    emulator.disconnect(stream["streamId"], expire=True)  # the session ends: FastPix records it
    html = reviewer_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT).content.decode()
    media_id = emulator.stream_state(stream["streamId"])["stream"]["mediaIds"][0]
    assert "2 min 05 s" in _row(html, media_id)


def test_the_recordings_url_without_htmx_is_a_page_with_recordings_and_clips(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator, name="Keynote")
    media = _recording(emulator, stream["streamId"])
    clip = _recording(emulator, stream["streamId"], kind="clip")
    response = reviewer_client.get(f"/streams/{stream['streamId']}/recordings/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Recordings of Keynote</h1>" in html
    assert f'<a href="/streams/{stream["streamId"]}/">← Back to Keynote</a>' in html
    assert f'href="/recordings/{media["id"]}/">Play' in html
    assert f'href="/recordings/{clip["id"]}/">Play' in html


def test_the_recordings_page_of_an_unknown_stream_is_a_404(reviewer_client: Client, emulator: Any) -> None:
    response = reviewer_client.get("/streams/0123456789abcdef0123456789abcdef/recordings/")
    assert response.status_code == 404
    assert "This stream no longer exists" in response.content.decode()


def test_the_fragment_says_when_fastpix_does_not_return_the_stream(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator)
    emulator.add_fault(rf"^/v1/live/streams/{stream['streamId']}$", status=503, times=None)
    url = f"/streams/{stream['streamId']}/recordings/"
    response = reviewer_client.get(url, **FRAGMENT)
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps it in place of "Loading…"
    assert "FastPix did not return the recordings just now." in html
    assert f'hx-get="{url}" hx-target="#recording-rows" hx-swap="outerHTML">Retry</a>' in html


def test_a_thumbnail_from_another_origin_than_the_images_host_is_not_shown(
    reviewer_client: Client, emulator: Any, settings: Any
) -> None:
    settings.FASTPIX_IMAGES_URL = "https://images.example.net"  # the CSP's img-src would block the others
    stream = _stream(emulator)
    media = _recording(emulator, stream["streamId"])
    html = reviewer_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT).content.decode()
    row = _row(html, media["id"])
    assert "<img" not in row
    assert "images.fastpix.com" not in row


# ---------------------------------------------------------------- live clips


def test_clips_are_listed_ten_per_page_with_previous_and_next(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator)
    clips = [
        _recording(emulator, stream["streamId"], kind="clip", created_at=_at(100 - minute))
        for minute in range(12)
    ]  # clips[0] is the oldest
    url = f"/streams/{stream['streamId']}/clips/"

    first = reviewer_client.get(url, **CLIPS).content.decode()
    assert first.lstrip().startswith('<div id="clip-rows"')
    assert re.findall(r'<tr id="media-([0-9a-f-]+)"', first) == [c["id"] for c in reversed(clips[2:])]
    assert "12 clips; page 1 of 2, newest first." in _text(first)
    assert f'<a href="{url}?page=2" hx-get="{url}?page=2" hx-target="#clip-rows"' in first
    assert 'rel="prev"' not in first

    second = reviewer_client.get(f"{url}?page=2", **CLIPS).content.decode()
    assert re.findall(r'<tr id="media-([0-9a-f-]+)"', second) == [clips[1]["id"], clips[0]["id"]]
    assert f'<a href="{url}?page=1" hx-get="{url}?page=1"' in second
    assert 'rel="next"' not in second
    assert f'href="/recordings/{clips[0]["id"]}/">Play' in second
    queries = [call["query"] for call in emulator.requests(path_regex=r"/live-clips$")]
    assert queries == ["limit=10&offset=1&orderBy=desc", "limit=10&offset=2&orderBy=desc"]


def test_the_second_page_of_clips_works_without_javascript(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator, name="Keynote")
    clips = [
        _recording(emulator, stream["streamId"], kind="clip", created_at=_at(100 - minute))
        for minute in range(11)
    ]
    response = reviewer_client.get(f"/streams/{stream['streamId']}/clips/?page=2")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Recordings of Keynote</h1>" in html
    clip_section = html[html.index('<div id="clip-rows"') :]
    assert re.findall(r'<tr id="media-([0-9a-f-]+)"', clip_section) == [clips[0]["id"]]


def test_a_page_of_clips_past_the_end_links_back_to_the_first(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator)
    _recording(emulator, stream["streamId"], kind="clip")
    url = f"/streams/{stream['streamId']}/clips/"
    html = reviewer_client.get(f"{url}?page=4", **CLIPS).content.decode()
    assert "There are no clips on page 4: this stream has 1 clip in 1 page." in _text(html)
    assert f'<a href="{url}?page=1" hx-get="{url}?page=1"' in html  # "Previous" lands on the last real page


def test_a_stream_without_clips_says_so(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator)
    html = reviewer_client.get(f"/streams/{stream['streamId']}/clips/", **CLIPS).content.decode()
    assert "No live clips of this stream." in html


def test_a_clips_failure_is_shown_in_place_with_a_retry(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator)
    emulator.add_fault(r"/live-clips$", status=502, times=None)
    url = f"/streams/{stream['streamId']}/clips/"
    response = reviewer_client.get(url, **CLIPS)
    html = response.content.decode()
    assert response.status_code == 200
    assert "FastPix did not return the clips." in html
    assert f'hx-get="{url}?page=1" hx-target="#clip-rows" hx-swap="outerHTML">Retry</a>' in html


# ---------------------------------------------------------------- the player page


def test_a_ready_recording_plays_in_the_embedded_fastpix_player(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator, name="Keynote")
    media = _recording(emulator, stream["streamId"], duration_seconds=95)
    playback_id = _playback_id(media)

    response = reviewer_client.get(f"/recordings/{media['id']}/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1>Recording of Keynote</h1>" in html
    assert (
        f'<iframe class="player-frame" src="https://play.fastpix.com/?playbackId={playback_id}" '
        'title="FastPix player: Recording of Keynote" '
        'allow="autoplay; fullscreen; picture-in-picture; encrypted-media" allowfullscreen></iframe>'
    ) in html
    assert f'<code id="share-url">https://play.fastpix.com/?playbackId={playback_id}</code>' in html
    assert '<button type="button" class="button small" data-copy="share-url">Copy link</button>' in html
    assert f'<code id="hls-url">https://stream.fastpix.com/{playback_id}.m3u8</code>' in html
    assert '<button type="button" class="button small" data-copy="hls-url">Copy HLS URL</button>' in html
    assert f'<a href="/streams/{stream["streamId"]}/">← Back to Keynote</a>' in html
    details = _text(html[html.index('id="details-heading"') :])
    assert "Status Ready" in details
    assert "Duration 1 min 35 s" in details
    assert "Resolution 1080p (16:9)" in details
    assert "Stream Keynote" in details
    assert f"Playback ID {playback_id} (public)" in details


def test_the_player_page_lets_frames_come_only_from_the_player_origin(
    reviewer_client: Client, emulator: Any
) -> None:
    media = _recording(emulator, _stream(emulator)["streamId"])
    response = reviewer_client.get(f"/recordings/{media['id']}/")
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    assert directives["frame-src"] == "https://play.fastpix.com"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["img-src"] == "'self' data: https://images.fastpix.com"


def test_a_processing_recording_says_when_it_will_be_playable(reviewer_client: Client, emulator: Any) -> None:
    media = _recording(emulator, _stream(emulator)["streamId"], "Processing")
    url = f"/recordings/{media['id']}/"
    html = reviewer_client.get(url).content.decode()
    assert "Still processing: playable when FastPix finishes, usually within a few minutes." in html
    assert "<iframe" not in html
    assert "play.fastpix.com" not in html  # no share link to something that cannot play yet
    assert (
        f'<div id="recording-poller" data-poll hx-get="{url}" hx-trigger="load delay:5s, poll-resume"' in html
    )

    emulator.set_media_status(media["id"], "Ready")
    headers = {
        "HTTP_HX_REQUEST": "true",
        "HTTP_HX_TARGET": "recording-body",
        "HTTP_HX_TRIGGER": "recording-poller",
    }
    response = reviewer_client.get(url, **headers)
    html = response.content.decode()
    assert response.status_code == 286
    assert html.lstrip().startswith('<div id="recording-body">')
    assert f'src="https://play.fastpix.com/?playbackId={_playback_id(media)}"' in html


def test_a_failed_recording_explains_there_is_nothing_to_play(reviewer_client: Client, emulator: Any) -> None:
    media = _recording(emulator, _stream(emulator)["streamId"], "Failed")
    html = reviewer_client.get(f"/recordings/{media['id']}/").content.decode()
    assert "This recording failed: there is nothing to play." in html
    assert "FastPix could not process it" in html
    assert "<iframe" not in html
    assert "data-copy" not in html
    assert "data-poll" not in html


def test_a_private_recording_says_signed_playback_is_needed(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator, mediaPolicy="private")
    media = _recording(emulator, stream["streamId"])
    assert media["playbackIds"][0]["accessPolicy"] == "private"
    html = reviewer_client.get(f"/recordings/{media['id']}/").content.decode()
    assert "Signed playback needed." in html
    assert "<iframe" not in html
    assert "play.fastpix.com" not in html
    assert 'id="share-url"' not in html
    assert f"Playback ID {_playback_id(media)} (private)" in _text(html)


def test_a_private_recording_has_no_play_button_in_the_list(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator, mediaPolicy="private")
    media = _recording(emulator, stream["streamId"])
    html = reviewer_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT).content.decode()
    row = _row(html, media["id"])
    assert f'href="/recordings/{media["id"]}/">Details' in row
    assert ">Play<" not in row


def test_an_unknown_media_id_is_a_friendly_404(reviewer_client: Client, emulator: Any) -> None:
    response = reviewer_client.get("/recordings/8d7a3a0c-5a2e-4a53-9a4b-000000000000/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>There is no such recording</h1>" in html
    assert "FastPix has no recording or clip with this id." in html
    assert '<a href="/streams/">Back to streams</a>' in html


def test_a_clip_page_names_it_a_clip_of_its_stream(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator, name="Keynote")
    clip = _recording(emulator, stream["streamId"], kind="clip")
    html = reviewer_client.get(f"/recordings/{clip['id']}/").content.decode()
    assert "<h1>Clip of Keynote</h1>" in html
    assert f'src="https://play.fastpix.com/?playbackId={_playback_id(clip)}"' in html


def test_a_recording_whose_stream_was_deleted_still_plays(reviewer_client: Client, emulator: Any) -> None:
    stream = _stream(emulator, name="Keynote")
    media = _recording(emulator, stream["streamId"])
    get_client().delete_stream(stream["streamId"])  # recordings are media assets and outlive the stream
    html = reviewer_client.get(f"/recordings/{media['id']}/").content.decode()
    assert "<h1>Recording</h1>" in html
    assert f'<span class="mono">{stream["streamId"]}</span> (deleted)' in html
    assert f'href="/streams/{stream["streamId"]}/"' not in html
    assert f'src="https://play.fastpix.com/?playbackId={_playback_id(media)}"' in html


def test_the_player_page_survives_fastpix_failing_to_return_the_stream(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator, name="Keynote")
    media = _recording(emulator, stream["streamId"])
    emulator.add_fault(rf"^/v1/live/streams/{stream['streamId']}$", status=500, times=None)
    response = reviewer_client.get(f"/recordings/{media['id']}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Recording</h1>" in html
    assert f'<a href="/streams/{stream["streamId"]}/">{stream["streamId"]}</a>' in html
    assert f'src="https://play.fastpix.com/?playbackId={_playback_id(media)}"' in html


# ---------------------------------------------------------------- /recordings/


def test_the_recordings_page_groups_recordings_under_their_stream_newest_streams_first(
    reviewer_client: Client, emulator: Any
) -> None:
    older = _stream(emulator, name="Morning session", createdAt=_at(300))
    _stream(emulator, name="Nothing recorded", createdAt=_at(200))
    newer = _stream(emulator, name="Evening session", createdAt=_at(100))
    first = _recording(emulator, older["streamId"], created_at=_at(290))
    second = _recording(emulator, older["streamId"], "Processing", created_at=_at(280))
    evening = _recording(emulator, newer["streamId"], created_at=_at(90))

    response = reviewer_client.get("/recordings/")
    html = response.content.decode()

    assert response.status_code == 200
    headings = re.findall(r'<h2 id="group-[0-9a-f]+"><a href="[^"]+">([^<]+)</a></h2>', html)
    assert headings == ["Evening session", "Morning session"]  # a stream without recordings is left out
    morning = html[html.index('id="recordings-' + older["streamId"]) :]
    assert re.findall(r'<tr id="media-([0-9a-f-]+)"', morning) == [second["id"], first["id"]]
    assert f'href="/recordings/{evening["id"]}/">Play' in html


def _groups(html: str) -> dict[str, list[str]]:
    """Each /recordings/ group's stream id and the media ids of its rows, in page order."""
    sections = re.findall(r'<section class="card" id="recordings-([0-9a-f]+)".*?</section>', html, re.S)
    bodies = re.findall(r'<section class="card" id="recordings-[0-9a-f]+".*?</section>', html, re.S)
    return {
        stream_id: re.findall(r'<tr id="media-([0-9a-f-]+)"', body)
        for stream_id, body in zip(sections, bodies, strict=True)
    }


def test_each_recording_sits_under_the_stream_that_made_it_when_dates_and_streams_disagree(
    reviewer_client: Client, emulator: Any
) -> None:
    # The older stream made the newest recording; the newer stream's mediaIds are not in date order.
    older = _stream(emulator, name="Morning session", createdAt=_at(300))
    newer = _stream(emulator, name="Evening session", createdAt=_at(100))
    evening_late = _recording(emulator, newer["streamId"], created_at=_at(50))  # appended first
    evening_early = _recording(emulator, newer["streamId"], created_at=_at(60))
    morning = _recording(emulator, older["streamId"], created_at=_at(10))  # newest of all
    morning_old = _recording(emulator, older["streamId"], "Failed", created_at=_at(290))

    html = reviewer_client.get("/recordings/").content.decode()

    groups = _groups(html)
    assert list(groups) == [newer["streamId"], older["streamId"]]  # newest streams first
    assert groups[newer["streamId"]] == [evening_late["id"], evening_early["id"]]  # newest first
    assert groups[older["streamId"]] == [morning["id"], morning_old["id"]]
    for stream, name in ((newer, "Evening session"), (older, "Morning session")):
        section = re.search(rf'id="recordings-{stream["streamId"]}".*?</section>', html, re.S)
        assert section
        for media_id in re.findall(r'href="/recordings/([0-9a-f-]+)/">Play', section.group(0)):
            player = reviewer_client.get(f"/recordings/{media_id}/").content.decode()
            assert f"<h1>Recording of {name}</h1>" in player  # the player names the same stream
        fragment = reviewer_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT)
        own = re.findall(r'<tr id="media-([0-9a-f-]+)"', fragment.content.decode())
        assert own == groups[stream["streamId"]]  # the stream page lists the same rows, in the same order

    ready = _groups(reviewer_client.get("/recordings/?ready=1").content.decode())
    assert ready == {
        newer["streamId"]: [evening_late["id"], evening_early["id"]],
        older["streamId"]: [morning["id"]],
    }


def test_the_ready_filter_shows_only_ready_recordings(reviewer_client: Client, emulator: Any) -> None:
    done = _stream(emulator, name="Done")
    busy = _stream(emulator, name="Busy")
    ready = _recording(emulator, done["streamId"], "Ready")
    failed = _recording(emulator, done["streamId"], "Failed")
    processing = _recording(emulator, busy["streamId"], "Processing")

    html = reviewer_client.get("/recordings/?ready=1").content.decode()

    assert f'id="media-{ready["id"]}"' in html
    assert f'id="media-{failed["id"]}"' not in html
    assert f'id="media-{processing["id"]}"' not in html
    assert "Busy" not in html  # its only recording is not ready, so the stream has no group
    assert '<input type="checkbox" name="ready" value="1" checked>' in html


def test_the_ready_filter_says_so_when_nothing_is_ready(reviewer_client: Client, emulator: Any) -> None:
    _recording(emulator, _stream(emulator)["streamId"], "Processing")
    html = _text(reviewer_client.get("/recordings/?ready=1").content.decode())
    assert "None of the recordings of the 1 stream on this page is ready to play." in html


def test_a_page_of_streams_without_recordings_says_so(reviewer_client: Client, emulator: Any) -> None:
    _stream(emulator)
    _stream(emulator)
    html = _text(reviewer_client.get("/recordings/").content.decode())
    assert "None of the 2 streams on this page has a recording yet." in html


def test_the_recordings_page_follows_fastpix_stream_paging(reviewer_client: Client, emulator: Any) -> None:
    streams = [_stream(emulator, name=f"Session {n}", createdAt=_at(100 - n)) for n in range(12)]
    for stream in streams:
        _recording(emulator, stream["streamId"])

    first = reviewer_client.get("/recordings/").content.decode()
    assert re.findall(r'<h2 id="group-[0-9a-f]+"><a href="[^"]+">([^<]+)</a></h2>', first) == [
        f"Session {n}" for n in range(11, 1, -1)
    ]
    assert '<a href="/recordings/?page=2&amp;size=10" rel="next">Older streams</a>' in first

    second = reviewer_client.get("/recordings/?page=2&ready=1").content.decode()
    assert re.findall(r'<h2 id="group-[0-9a-f]+"><a href="[^"]+">([^<]+)</a></h2>', second) == [
        "Session 1",
        "Session 0",
    ]
    assert '<a href="/recordings/?page=1&amp;size=10&amp;ready=1" rel="prev">Newer streams</a>' in second
    queries = [call["query"] for call in emulator.requests(path_regex=r"^/v1/live/streams$")]
    assert queries == ["limit=10&offset=1&orderBy=desc", "limit=10&offset=2&orderBy=desc"]


def test_one_failing_media_call_on_the_recordings_page_spoils_only_its_row(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator)
    broken = _recording(emulator, stream["streamId"])
    fine = _recording(emulator, _stream(emulator, name="Other")["streamId"])
    emulator.add_fault(rf"^/v1/on-demand/{broken['id']}$", status=503, times=None)
    response = reviewer_client.get("/recordings/?ready=1")
    html = response.content.decode()
    assert response.status_code == 200
    row = _row(html, broken["id"])
    assert "Unavailable" in row
    assert '<a class="button small" href="/recordings/?ready=1">Retry</a>' in row
    assert f'href="/recordings/{fine["id"]}/">Play' in html


def test_the_recordings_page_shows_a_banner_when_fastpix_does_not_list_streams(
    reviewer_client: Client, emulator: Any
) -> None:
    emulator.add_fault(r"^/v1/live/streams$", status=503, times=None)
    response = reviewer_client.get("/recordings/")
    assert response.status_code == 503
    assert "FastPix is not answering" in response.content.decode()


# ---------------------------------------------------------------- who may look


@pytest.mark.parametrize("role", ["admin", "producer", "reviewer"])
def test_every_role_can_review_recordings(client: Client, make_user: Any, emulator: Any, role: str) -> None:
    client.force_login(make_user(role))
    stream = _stream(emulator)
    media = _recording(emulator, stream["streamId"])
    for url in (
        "/recordings/",
        f"/recordings/{media['id']}/",
        f"/streams/{stream['streamId']}/recordings/",
        f"/streams/{stream['streamId']}/clips/",
    ):
        assert client.get(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, emulator: Any) -> None:
    stream = _stream(emulator)
    media = _recording(emulator, stream["streamId"])
    for url in (
        "/recordings/",
        f"/recordings/{media['id']}/",
        f"/streams/{stream['streamId']}/recordings/",
        f"/streams/{stream['streamId']}/clips/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"/login/?next={url}"
    assert emulator.requests() == []


def test_a_user_without_a_role_is_refused(client: Client, emulator: Any, django_user_model: Any) -> None:
    client.force_login(django_user_model.objects.create_user("nobody"))
    media = _recording(emulator, _stream(emulator)["streamId"])
    response = client.get(f"/recordings/{media['id']}/")
    assert response.status_code == 403
    assert emulator.requests() == []


def test_the_stream_page_and_its_recordings_fragment_read_the_stream_once(
    reviewer_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator)
    _recording(emulator, stream["streamId"])
    emulator.clear_requests()
    reviewer_client.get(f"/streams/{stream['streamId']}/")
    reviewer_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT)
    reads = emulator.requests(path_regex=rf"^/v1/live/streams/{stream['streamId']}$", method="GET")
    assert len(reads) == 1


def test_after_an_action_the_recordings_fragment_reads_the_stream_afresh(
    admin_client: Client, emulator: Any
) -> None:
    stream = _stream(emulator, status="active")
    admin_client.get(f"/streams/{stream['streamId']}/")
    admin_client.post(f"/streams/{stream['streamId']}/finish/")
    html = admin_client.get(f"/streams/{stream['streamId']}/recordings/", **FRAGMENT).content.decode()
    assert len(re.findall(r'<tr id="media-', html)) == 1  # the finished broadcast's recording
