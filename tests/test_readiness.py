"""The readiness job (streams/workspace/readiness.py): three lights per preparing or live stream, the
Playable one from fetching its HLS manifest over real HTTP, from the emulator's stream host or from a tiny
local server that misbehaves (hangs, junk, redirects)."""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest
from django.utils import timezone

from streams.client import get_client
from streams.models import Readiness, WorkerRun
from streams.workspace import mirror, readiness, reconcile
from streams.workspace.pacing import Context
from streams.workspace.worker import JOBS, run_job

pytestmark = pytest.mark.django_db

Light = Readiness.Light
LIVE_PLAYLIST = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n1.ts\n#EXTINF:2.0,\n2.ts\n"


class Host:
    """A stream host on 127.0.0.1 answering `routes[path] = (status, headers, body)`, recording every hit;
    an unknown path is a 404. `hang` paths never answer (until the server stops)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], str]] = {}
        self.hits: list[str] = []
        self.times: dict[str, list[float]] = defaultdict(list)  # path: when each hit arrived (monotonic)
        self.release = threading.Event()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.hits.append(self.path)
                host.times[self.path].append(time.monotonic())
                status, headers, body = host.routes.get(self.path, (404, {}, "not found"))
                if status == 0:  # hang
                    host.release.wait(10)
                    return
                payload = body.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host() -> Iterator[Host]:
    server = Host()
    yield server
    server.stop()


@pytest.fixture
def stream_host(emulator: Any, emulator_server: Any, settings: Any) -> Any:
    """The console probes the emulator's stand-in stream host."""
    settings.FASTPIX_STREAM_URL = f"{emulator_server.base_url}/stream"
    settings.PROBE_TIMEOUT_SECONDS = 0.5
    return emulator


def mirrored() -> None:
    reconcile.reconcile(Context.standalone())


def judge(period: float = 0.2) -> dict[str, Any]:
    return readiness.judge(Context.standalone(), period)


def lights(stream_id: str) -> Readiness:
    return Readiness.objects.get(stream_id=stream_id)


def playback_id(stream: dict[str, Any]) -> str:
    return str(stream["playbackIds"][0]["id"])


def forget_probes() -> None:
    """As if the last probes were a period ago: the next round probes again."""
    Readiness.objects.update(probed_at=timezone.now() - timedelta(minutes=1))


def test_an_active_stream_is_green_a_preparing_one_has_no_segments_yet_and_an_idle_one_is_not_probed(
    stream_host: Any,
) -> None:
    active = stream_host.create_stream(status="active")["streamId"]
    preparing = stream_host.create_stream(status="preparing")["streamId"]
    idle = stream_host.create_stream(status="idle")["streamId"]
    mirrored()

    detail = judge()

    on = lights(active)
    assert (on.encoder, on.live, on.playable, on.playable_reason) == (Light.ON, Light.ON, Light.ON, "")
    waiting = lights(preparing)
    assert (waiting.encoder, waiting.live, waiting.playable) == (Light.ON, Light.OFF, Light.OFF)
    assert waiting.playable_reason == "no segments yet"
    assert not Readiness.objects.filter(stream_id=idle).exists()
    assert (detail["streams"], detail["probed"]) == (2, 2)
    assert on.probed_at is not None


def test_a_stream_with_only_private_playback_ids_needs_a_signed_token_and_is_never_fetched(
    stream_host: Any, host: Host, settings: Any
) -> None:
    settings.FASTPIX_STREAM_URL = host.url  # a fetch would show up here
    stream = stream_host.create_stream(status="active", accessPolicy="private")
    mirrored()

    judge()

    row = lights(stream["streamId"])
    assert (row.playable, row.playable_reason) == (Light.PRIVATE, "needs a signed token")
    assert row.get_playable_display() == "Needs a signed token"
    assert host.hits == []


def test_a_manifest_that_hangs_is_unknown_never_green(stream_host: Any) -> None:
    stream = stream_host.create_stream(status="active")
    mirrored()
    stream_host.add_fault(r"^/stream/", latency_ms=3000, times=None)

    began = timezone.now()
    judge()

    row = lights(stream["streamId"])
    assert row.playable == Light.UNKNOWN
    assert row.playable_reason == "unknown: no answer within 0.5 s"
    assert (timezone.now() - began).total_seconds() < 2.5  # the probe gave up at its timeout


def test_a_manifest_that_never_answers_at_all_is_unknown(stream_host: Any, host: Host, settings: Any) -> None:
    stream = stream_host.create_stream(status="active")
    mirrored()
    settings.FASTPIX_STREAM_URL = host.url
    host.routes[f"/{playback_id(stream)}.m3u8"] = (0, {}, "")

    judge()

    row = lights(stream["streamId"])
    assert (row.playable, row.playable_reason) == (Light.UNKNOWN, "unknown: no answer within 0.5 s")


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ("<html>Service unavailable</html>", 200, "unknown: the answer is not an HLS playlist"),
        ("", 200, "unknown: the answer is not an HLS playlist"),
        ("#EXTM3U\n#EXTINF:2.0,\n1.ts\n", 503, "unknown: the stream host answered 503"),
        ("denied", 403, "unknown: the stream host refused it (403)"),
    ],
)
def test_junk_or_an_error_is_unknown_with_the_reason(
    stream_host: Any, body: str, status: int, reason: str
) -> None:
    stream = stream_host.create_stream(status="active")
    mirrored()
    stream_host.add_fault(r"^/stream/", status=status, raw_body=body, content_type="text/html", times=None)

    judge()

    row = lights(stream["streamId"])
    assert (row.playable, row.playable_reason) == (Light.UNKNOWN, reason)


def test_a_404_is_not_playing_yet(stream_host: Any, host: Host, settings: Any) -> None:
    stream = stream_host.create_stream(status="active")
    mirrored()
    settings.FASTPIX_STREAM_URL = host.url

    judge()

    assert (lights(stream["streamId"]).playable, lights(stream["streamId"]).playable_reason) == (
        Light.OFF,
        "not playing yet",
    )


def test_a_redirect_to_another_host_is_unknown_and_not_followed(
    stream_host: Any, host: Host, settings: Any
) -> None:
    elsewhere = Host()
    try:
        stream = stream_host.create_stream(status="active")
        mirrored()
        settings.FASTPIX_STREAM_URL = host.url
        path = f"/{playback_id(stream)}.m3u8"
        elsewhere.routes[path] = (200, {}, LIVE_PLAYLIST)  # green, were it followed
        target = f"{elsewhere.url}{path}?token=secret"
        host.routes[path] = (302, {"Location": target}, "")

        judge()

        row = lights(stream["streamId"])
        netloc = elsewhere.url.removeprefix("http://")
        assert (row.playable, row.playable_reason) == (Light.UNKNOWN, f"unknown: redirected to {netloc}")
        assert "secret" not in row.playable_reason
        assert host.hits == [path]
        assert elsewhere.hits == []
    finally:
        elsewhere.stop()


def test_a_redirect_on_the_same_host_is_followed_once_but_not_twice(
    stream_host: Any, host: Host, settings: Any
) -> None:
    first = stream_host.create_stream(status="active")
    second = stream_host.create_stream(status="active")
    mirrored()
    settings.FASTPIX_STREAM_URL = host.url
    host.routes[f"/{playback_id(first)}.m3u8"] = (301, {"Location": "/moved/live.m3u8"}, "")
    host.routes["/moved/live.m3u8"] = (200, {}, LIVE_PLAYLIST)
    host.routes[f"/{playback_id(second)}.m3u8"] = (302, {"Location": "/hop.m3u8"}, "")
    host.routes["/hop.m3u8"] = (302, {"Location": "/moved/live.m3u8"}, "")

    judge()

    assert lights(first["streamId"]).playable == Light.ON
    looping = lights(second["streamId"])
    assert (looping.playable, looping.playable_reason) == (
        Light.UNKNOWN,
        "unknown: redirected more than once",
    )


def test_a_master_playlist_is_green_only_when_its_first_variant_has_segments(
    stream_host: Any, host: Host, settings: Any
) -> None:
    ready = stream_host.create_stream(status="active")
    empty = stream_host.create_stream(status="active")
    mirrored()
    settings.FASTPIX_STREAM_URL = host.url
    master = (
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\n{}/low.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8\n"
    )
    host.routes[f"/{playback_id(ready)}.m3u8"] = (200, {}, master.format("ready"))
    host.routes["/ready/low.m3u8"] = (200, {}, LIVE_PLAYLIST)
    host.routes[f"/{playback_id(empty)}.m3u8"] = (200, {}, master.format("empty"))
    host.routes["/empty/low.m3u8"] = (200, {}, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n")

    judge()

    assert lights(ready["streamId"]).playable == Light.ON
    not_yet = lights(empty["streamId"])
    assert (not_yet.playable, not_yet.playable_reason) == (Light.OFF, "no segments yet")
    assert "/ready/low.m3u8" in host.hits
    assert "/x.m3u8" not in host.hits  # only the first variant


def test_change_times_are_kept_and_the_version_moves_only_when_a_light_changes(stream_host: Any) -> None:
    stream = stream_host.create_stream(status="preparing")
    stream_id = stream["streamId"]
    mirrored()
    judge()
    before = lights(stream_id)
    version = mirror.version()

    forget_probes()
    judge()  # nothing changed

    again = lights(stream_id)
    assert mirror.version() == version
    assert (again.encoder_changed_at, again.live_changed_at, again.playable_changed_at) == (
        before.encoder_changed_at,
        before.live_changed_at,
        before.playable_changed_at,
    )
    assert again.probed_at > before.probed_at  # probed again, written quietly

    stream_host.go_live(stream_id)
    mirrored()
    version = mirror.version()
    forget_probes()
    judge()

    live = lights(stream_id)
    assert mirror.version() > version
    assert (live.live, live.playable) == (Light.ON, Light.ON)
    assert live.encoder_changed_at == before.encoder_changed_at  # the encoder stayed connected
    assert live.live_changed_at > before.live_changed_at
    assert live.playable_changed_at > before.playable_changed_at


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in pairwise(times)]


def test_a_stream_is_probed_at_most_once_per_period(stream_host: Any, host: Host, settings: Any) -> None:
    """A round started again at once (a worker taking over, say) still probes the stream, but waits until a
    period has passed since its last probe: the stream host is never asked twice in a period."""
    stream = stream_host.create_stream(status="active")
    mirrored()
    settings.FASTPIX_STREAM_URL = host.url
    path = f"/{playback_id(stream)}.m3u8"
    host.routes[path] = (200, {}, LIVE_PLAYLIST)

    judge(period=1.0)  # one stream: probed at once
    second = judge(period=1.0)  # at once again

    assert second["probed"] == 1
    assert len(host.times[path]) == 2
    assert gaps(host.times[path])[0] >= 0.8  # a period, less how late the first request left a loaded pool


def test_back_to_back_rounds_probe_every_live_stream_each_round(
    stream_host: Any, host: Host, settings: Any
) -> None:
    """The worker starts a round every period, and a round spreads its probes over the period: each round
    must probe every live stream (Playable refreshes once a period), each about a period after its last
    probe, also when a stream ends between rounds and the others' places in the round move."""
    period = 1.0
    streams = [stream_host.create_stream(status="active") for _ in range(3)]
    mirrored()
    settings.FASTPIX_STREAM_URL = host.url
    paths = [f"/{playback_id(stream)}.m3u8" for stream in streams]
    for path in paths:
        host.routes[path] = (200, {}, LIVE_PLAYLIST)

    probed = []
    ended = ""
    for round_ in range(4):
        if round_ == 2:  # the stream probed first ends: the two others move up in the round
            ended = min(paths, key=lambda path: host.times[path][0])
            stream_host.disconnect(streams[paths.index(ended)]["streamId"], expire=True)
            mirrored()
        began = time.monotonic()  # as the worker's lane does: the next round a period after this one began
        probed.append(judge(period=period)["probed"])
        time.sleep(max(0.0, began + period - time.monotonic()))

    assert probed == [3, 3, 2, 2]
    assert len(host.times[ended]) == 2
    for path in set(paths) - {ended}:
        assert len(host.times[path]) == 4
        # At the host, a gap is a period give or take how late each probe's request left the pool (a loaded
        # machine: tens of ms); a skipped round would show as two periods.
        assert all(0.8 * period <= gap < 1.9 * period for gap in gaps(host.times[path]))


def test_a_stream_no_longer_live_has_its_lights_set_off_and_is_not_probed_again(
    stream_host: Any, host: Host, settings: Any
) -> None:
    stream = stream_host.create_stream(status="active")
    stream_id = stream["streamId"]
    mirrored()
    judge()
    assert lights(stream_id).playable == Light.ON

    stream_host.disconnect(stream_id, expire=True)
    mirrored()
    settings.FASTPIX_STREAM_URL = host.url
    version = mirror.version()
    forget_probes()
    detail = judge()

    row = lights(stream_id)
    assert (row.encoder, row.live, row.playable, row.playable_reason) == (Light.OFF, Light.OFF, Light.OFF, "")
    assert detail["ended"] == 1
    assert mirror.version() > version
    assert host.hits == []
    version = mirror.version()
    assert judge()["ended"] == 0  # off already: left alone, nothing to re-render
    assert mirror.version() == version


def test_the_workers_readiness_job_runs_and_records_its_round(stream_host: Any, settings: Any) -> None:
    settings.VIEWER_COUNT_TTL = 0.5
    stream = stream_host.create_stream(status="active")
    mirrored()
    job = next(job for job in JOBS if job.name == "readiness")

    assert run_job(job, Context.standalone())

    run = WorkerRun.objects.get(job="readiness")
    assert run.error == ""
    assert run.detail["probed"] == 1
    assert run.detail["on"] == 1
    assert lights(stream["streamId"]).playable == Light.ON


def test_a_drop_turns_the_encoder_light_off_at_once_without_waiting_for_the_job() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from streams.client import LiveStream
    from streams.models import MirroredStream, Readiness
    from streams.workspace import mirror
    from streams.workspace.readiness import as_of

    now = timezone.now()
    stream = LiveStream(stream_id="d" * 32, status="active")
    mirror.observe(stream, now, encoder="connected")
    judged = Readiness(stream_id=stream.stream_id, encoder="on", live="on", encoder_changed_at=now)
    row = MirroredStream.objects.get()
    assert as_of(judged, row) is judged  # nothing newer in the mirror
    mirror.observe(stream, now + timedelta(seconds=2), encoder="disconnected")
    shown = as_of(judged, MirroredStream.objects.get())
    assert shown is not None
    assert (shown.encoder, shown.encoder_changed_at, shown.live) == ("off", now + timedelta(seconds=2), "on")
    assert judged.encoder == "on"  # the stored judgement is the job's to change


def test_a_lights_change_time_is_a_clock_time_that_cannot_stand_still() -> None:
    """A stream's page polls its lights only when they change, so "changed 3 minutes ago" would still say
    so an hour later: the lights show when, in the console's one format (relative time on hover)."""
    from django.template.loader import render_to_string

    changed = timezone.now() - timedelta(minutes=3)
    judged = Readiness(stream_id="a" * 32, encoder="on", encoder_changed_at=changed)

    html = render_to_string("streams/_lights.html", {"readiness": judged, "status": "active"})

    iso = changed.replace(microsecond=0).isoformat()
    assert f'changed <time datetime="{iso}" title="3 minutes ago" data-local>' in html
    assert "ago</time>" not in html


def shown_lights(html: str, lights_id: str = "") -> dict[str, str]:
    """Each light of the first light list (the one with id `lights_id`, if given) as "word — reason"."""
    html = html[html.index('<ul class="lights"' + (f' id="{lights_id}"' if lights_id else "")) :]
    html = html[: html.index("</ul>")]
    found = {}
    for key, word, reason in re.findall(
        r'data-light="(\w+)">.*?<strong class="light-word">([^<]*)</strong>(?:<span class="light-reason"> — ([^<]*)</span>)?',
        html,
        flags=re.S,
    ):
        found[key] = f"{word} — {reason}" if reason else word
    return found


def test_a_drop_shows_the_encoder_not_connected_even_before_the_job_has_judged_the_stream(
    emulator: Any, producer_client: Any
) -> None:
    """No Readiness row yet (the worker has not run): the lights still follow the mirror, so the page
    never says "Encoder: Connected" beside the drop banner."""
    stream_id = emulator.create_stream(status="active")["streamId"]
    mirror.observe(get_client().get_stream(stream_id), timezone.now(), encoder="connected")
    emulator.disconnect(stream_id)
    mirror.observe(get_client().get_stream(stream_id), timezone.now(), encoder="disconnected")
    assert not Readiness.objects.exists()

    page = producer_client.get(f"/streams/{stream_id}/").content.decode()
    wall = producer_client.get("/wall/").content.decode()

    expected = {"encoder": "Not connected", "live": "Live", "playable": "Unknown — not checked yet"}
    assert shown_lights(page, "stream-lights") == expected
    assert shown_lights(wall) == expected


def test_a_stream_that_ended_is_never_shown_playable_before_the_job_turns_its_lights_off(
    stream_host: Any, producer_client: Any
) -> None:
    stream_id = stream_host.create_stream(status="active")["streamId"]
    mirrored()
    judge()
    assert lights(stream_id).playable == Light.ON

    stream_host.disconnect(stream_id, expire=True)
    mirrored()  # the mirror knows it ended; the readiness job has not run again (or the worker is down)

    page = producer_client.get(f"/streams/{stream_id}/").content.decode()

    assert shown_lights(page, "stream-lights") == {
        "encoder": "Not connected",
        "live": "Not live",
        "playable": "Not playable",
    }
    assert lights(stream_id).playable == Light.ON  # the stored judgement is the job's to change


def test_lights_built_from_the_mirror_alone_say_when_the_encoder_left() -> None:
    from streams.client import LiveStream
    from streams.models import MirroredStream
    from streams.workspace.readiness import as_of

    now = timezone.now()
    stream = LiveStream(stream_id="e" * 32, status="active")
    mirror.observe(stream, now, encoder="connected")
    connected = as_of(None, MirroredStream.objects.get())
    assert connected is not None
    assert (connected.encoder, connected.live, connected.playable) == (Light.ON, Light.ON, Light.UNKNOWN)
    assert connected.playable_reason == "not checked yet"
    mirror.observe(stream, now + timedelta(seconds=2), encoder="disconnected")
    dropped = as_of(None, MirroredStream.objects.get())
    assert dropped is not None
    assert (dropped.encoder, dropped.encoder_changed_at) == (Light.OFF, now + timedelta(seconds=2))
    assert not Readiness.objects.exists()  # shown, never stored
