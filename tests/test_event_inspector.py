"""/events/: the Stream admin's view of every webhook delivery, and re-applying one."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from streams.models import MirroredStream, ReceivedEvent, WorkerRun
from tests.test_webhooks import SECRET, event, post

pytestmark = pytest.mark.django_db

URL = "/events/"


@pytest.fixture(autouse=True)
def _webhook_secret(settings: Any) -> None:
    settings.FASTPIX_WEBHOOK_SECRET = SECRET


def rows(html: str) -> list[str]:
    """The table's rows, in page order."""
    return re.findall(r'<tr id="event-\d+".*?</tr>', html, flags=re.S)


def received(n: int, **fields: Any) -> list[ReceivedEvent]:
    start = timezone.now() - timedelta(hours=1)
    return [
        ReceivedEvent.objects.create(
            received_at=start + timedelta(seconds=i),
            event_id=f"evt_{i:03d}",
            event_type="video.live_stream.updated",
            signature="valid",
            verdict="unchanged",
            **fields,
        )
        for i in range(n)
    ]


def test_only_the_stream_admin_may_inspect_events(
    client: Client, make_user: Any, admin_client: Client
) -> None:
    assert admin_client.get(URL).status_code == 200
    for role in ("producer", "reviewer"):
        other = Client()
        other.force_login(make_user(role))
        assert other.get(URL).status_code == 403
        assert other.post("/events/reapply/", {"event": "1"}).status_code == 403
    assert Client().get(URL)["Location"].startswith("/login/?next=")


def test_the_menu_links_the_inspector_for_the_admin_only(admin_client: Client, make_user: Any) -> None:
    assert b'href="/events/" aria-current="page">Events</a>' in admin_client.get(URL).content
    producer = Client()
    producer.force_login(make_user("producer"))
    assert b'href="/events/"' not in producer.get("/audit/", follow=True).content


def test_each_row_shows_what_a_delivery_was_and_what_it_did(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle", metadata={"livestream_name": "Main stage"})
    now = datetime.now(UTC)
    active = event("video.live_stream.active", stream, at=now, status="active")
    post(admin_client, event("video.live_stream.updated", stream, at=now - timedelta(seconds=5)))
    post(admin_client, active)
    post(admin_client, event("video.live_stream.idle", stream, at=now - timedelta(seconds=2), status="idle"))
    post(admin_client, active)
    post(admin_client, event("video.live_stream.updated", stream), signature="Zm9yZ2Vk")

    html = admin_client.get(URL).content.decode()

    forged, duplicate, late, applied, first = rows(html)  # newest first
    assert "Wrong" in forged
    assert "Rejected: bad signature" in forged
    assert "Not kept: the signature failed" in forged
    assert "<details" not in forged
    assert '<strong class="event-flag">Duplicate, ignored</strong>' in duplicate
    assert '<strong class="event-flag">Older than what the console knows, ignored</strong>' in late
    assert "video.live_stream.idle" in late
    assert f'<a class="mono" href="/streams/{stream["streamId"]}/">{stream["streamId"]}</a>' in applied
    assert active["id"] in applied
    assert "status: <del>idle</del> → <ins>active</ins>" in applied
    assert "<summary>Payload" in applied
    assert "&quot;streamKey&quot;: &quot;[redacted]&quot;" in applied
    assert "Main stage" in first
    assert '<th scope="col">Verdict</th>' in html
    assert all("Re-apply" in row for row in (duplicate, late, applied, first))


def test_events_are_paged_fifty_at_a_time_newest_first(admin_client: Client) -> None:
    received(51)

    first = admin_client.get(URL).content.decode()
    second = admin_client.get(URL, {"page": 2}).content.decode()

    assert len(rows(first)) == 50
    assert "evt_050" in rows(first)[0]
    assert "Page 1 of 2" in first
    assert rows(second) == [row for row in rows(second) if "evt_000" in row]
    assert len(rows(second)) == 1


def test_events_filter_by_stream_and_by_verdict(admin_client: Client) -> None:
    one, two = "a" * 32, "b" * 32
    received(3, stream_id=one)
    ReceivedEvent.objects.create(
        received_at=timezone.now(), event_id="evt_dup", stream_id=two, signature="valid", verdict="duplicate"
    )

    by_stream = admin_client.get(URL, {"stream": f"  {one.upper()} "}).content.decode()
    by_verdict = admin_client.get(URL, {"verdict": "duplicate"}).content.decode()
    both = admin_client.get(URL, {"stream": one, "verdict": "duplicate"}).content.decode()

    assert len(rows(by_stream)) == 3
    assert all(one in row for row in rows(by_stream))
    assert [("evt_dup" in row) for row in rows(by_verdict)] == [True]
    assert rows(both) == []
    assert "Nothing matches these filters" in both
    assert '<option value="duplicate" selected>' in by_verdict
    assert len(rows(admin_client.get(URL, {"verdict": "nonsense"}).content.decode())) == 4


def test_the_header_says_how_old_the_last_event_and_the_workers_jobs_are(admin_client: Client) -> None:
    assert admin_client.get(URL).content.decode().count("<dd>never</dd>") == 4

    now = timezone.now()
    ReceivedEvent.objects.create(
        received_at=now - timedelta(seconds=12), signature="missing", verdict="rejected"
    )
    WorkerRun.objects.create(job="reconcile", started_at=now, ok_at=now - timedelta(minutes=3))
    WorkerRun.objects.create(job="sample", started_at=now, ok_at=now, error="FastPix is not answering")
    html = admin_client.get(URL).content.decode()

    assert re.search(r"<dt>Last event received</dt><dd>1[2-4] s ago</dd>", html)
    assert "<dt>Last full reconcile</dt><dd>3 min ago</dd>" in html
    assert "<dt>Last refresh of live streams</dt><dd>never</dd>" in html
    assert "The worker's last sample failed: FastPix is not answering" in html


def test_reapplying_an_event_the_mirror_lost_applies_it_again(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    post(admin_client, event("video.live_stream.active", stream, status="active"))
    MirroredStream.objects.all().delete()
    stored = ReceivedEvent.objects.get()

    response = admin_client.post(
        "/events/reapply/", {"event": stored.pk, "next": "/events/?verdict=applied"}, follow=True
    )

    assert response.redirect_chain == [("/events/?verdict=applied", 302)]
    assert MirroredStream.objects.get().status == "active"
    text = response.content.decode()
    assert f"Event video.live_stream.active ({stored.event_id}) re-applied: changed" in text
    assert "status (none) → active" in text
    assert ReceivedEvent.objects.count() == 1  # the receipt is left as it was


def test_reapplying_an_older_event_changes_nothing_and_says_so(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    now = datetime.now(UTC)
    older = event("video.live_stream.active", stream, at=now - timedelta(seconds=3), status="active")
    post(admin_client, older)
    post(admin_client, event("video.live_stream.idle", stream, at=now, status="idle"))
    stored = ReceivedEvent.objects.get(event_id=older["id"])

    response = admin_client.post("/events/reapply/", {"event": stored.pk}, follow=True)

    assert response.redirect_chain == [("/events/", 302)]
    assert "re-applied: Older than what the console knows: nothing changed." in response.content.decode()
    assert MirroredStream.objects.get().status == "idle"


def test_a_rejected_or_missing_event_cannot_be_reapplied(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    post(admin_client, event("video.live_stream.active", stream, status="active"), signature="Zm9yZ2Vk")
    rejected = ReceivedEvent.objects.get()

    refused = admin_client.post("/events/reapply/", {"event": rejected.pk}, follow=True).content.decode()
    missing = admin_client.post("/events/reapply/", {"event": "999999"}, follow=True).content.decode()
    garbage = admin_client.post("/events/reapply/", {"event": "1; DROP", "next": "https://evil.example/"})

    assert "Only a genuine event" in refused
    assert "There is no such event" in missing
    assert garbage["Location"] == "/events/"
    assert not MirroredStream.objects.exists()
    assert "Re-apply" not in rows(admin_client.get(URL).content.decode())[0]


def test_reapplying_needs_a_post_with_the_csrf_token(make_user: Any, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    post(Client(), event("video.live_stream.active", stream, status="active"))
    MirroredStream.objects.all().delete()
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("admin"))
    pk = ReceivedEvent.objects.get().pk

    assert client.get("/events/reapply/", {"event": pk}).status_code == 405
    assert client.post("/events/reapply/", {"event": pk}).status_code == 403
    assert not MirroredStream.objects.exists()


def test_an_empty_inspector_says_nothing_arrived_yet_and_when_webhooks_are_off(
    admin_client: Client, settings: Any
) -> None:
    settings.FASTPIX_WEBHOOK_SECRET = ""

    html = admin_client.get(URL).content.decode()

    assert "FastPix has not delivered any webhook to this console yet." in html
    assert "No webhook signing secret is configured" in html


def test_the_payload_of_an_unknown_event_is_shown_escaped(admin_client: Client) -> None:
    payload = {"id": str(uuid.uuid4()), "type": "video.live_stream.<script>alert(1)</script>", "data": {}}
    post(admin_client, payload)

    html = admin_client.get(URL).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "video.live_stream.&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Unknown type, kept" in html
