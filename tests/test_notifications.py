"""Notifications (streams/workspace/notify.py) over the wire: a real SMTP server (aiosmtpd) behind Django's
SMTP e-mail backend, and a real HTTP receiver standing in for a Slack-compatible incoming webhook. One
incident is told once per channel however often the jobs run and the event arrives; a failing target is
retried with back-off and given up on after ALERT_MAX_ATTEMPTS, each attempt kept for the inspector; no
secret is in anything sent or kept; and nothing of it slows a page."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.utils import timezone

from emulator.testing import EmulatorControl
from streams.client import get_client
from streams.models import Incident, Notification, WorkerRun
from streams.workspace import alerts, notify, worker
from streams.workspace.pacing import Context
from streams.workspace.signature import fastpix_signature

pytestmark = pytest.mark.django_db

NAME = "Main stage"
SECRET = "ZmFzdHBpeC1lbXVsYXRvci10ZXN0LXNlY3JldC0zMmJ5dGVzISE="
ADDRESSES = ["producer@example.com", "oncall@example.com"]
HOOK_PATH = "/services/T0001/B0002/hook-token-not-to-be-told"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """aiosmtpd's handler: every message as the bytes that crossed the wire."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
    settings.ALERT_EMAILS = ADDRESSES
    yield mailbox
    controller.stop()


class Receiver:
    """An incoming-webhook stand-in: answers each POST with the next of `answers` (then 200)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.answers: list[int] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.bodies.append(body)
                time.sleep(receiver.delay)
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{HOOK_PATH}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self) -> list[str]:
        return [json.loads(body)["text"] for body in self.bodies]


@pytest.fixture
def hook(settings: Any) -> Iterator[Receiver]:
    receiver = Receiver()
    settings.ALERT_WEBHOOK_URL = receiver.url
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture(autouse=True)
def _alert_settings(settings: Any) -> None:
    settings.FASTPIX_WEBHOOK_SECRET = SECRET
    settings.CONSOLE_URL = "https://console.example.com"
    settings.ALERT_RETRY_SECONDS = 2
    settings.ALERT_RETRY_MAX_SECONDS = 300
    settings.ALERT_MAX_ATTEMPTS = 3
    settings.ALERT_TIMEOUT = 2


def stream_event(kind: str, stream: dict[str, Any], event_id: str | None = None) -> bytes:
    """A stream event as FastPix sends it: the whole stream in `data`, its key and SRT secret included."""
    payload = {
        "id": event_id or str(uuid.uuid4()),
        "type": f"video.live_stream.{kind}",
        "object": {"type": "live", "id": stream["streamId"]},
        "data": stream,
        "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "attempts": [],
    }
    return json.dumps(payload).encode()


def post_event(client: Client, raw: bytes) -> None:
    response = client.post(
        "/webhooks/fastpix/",
        data=raw,
        content_type="application/json",
        headers={"FastPix-Signature": fastpix_signature(raw, SECRET)},
    )
    assert response.status_code == 200, response.content


def dropped_stream(emulator: EmulatorControl, client: Client, *, twice: bool = False) -> dict[str, Any]:
    """A live stream whose encoder left, told to the console by FastPix's signed webhook (twice: the same
    event delivered again)."""
    created = emulator.create_stream(status="active", reconnectWindow=60, metadata={"livestream_name": NAME})
    emulator.disconnect(created["streamId"])
    stream = get_client().get_stream(created["streamId"])
    full = emulator.stream_state(stream.stream_id)["stream"]
    assert full["streamKey"]
    assert stream.stream_key == full["streamKey"]
    raw = stream_event("disconnected", full)
    post_event(client, raw)
    if twice:
        post_event(client, raw)
    return full


def run_jobs(times: int = 1, now: datetime | None = None) -> None:
    for _ in range(times):
        alerts.detect(now=now)
        notify.send_due(now=now)


def only_notification(channel: str) -> Notification:
    return Notification.objects.get(channel=channel)


# ------------------------------------------------------------------------------------------ once each


def test_one_drop_is_one_email_to_everyone_and_one_webhook_post_however_often_it_is_seen(
    emulator: EmulatorControl, client: Client, smtp: Mailbox, hook: Receiver
) -> None:
    stream = dropped_stream(emulator, client, twice=True)

    run_jobs(times=4)

    assert len(smtp.messages) == 1
    sender, recipients, raw_mail = smtp.messages[0]
    assert sorted(recipients) == sorted(ADDRESSES)
    assert sender == "console@localhost"
    mail = raw_mail.decode()
    assert f"Subject: [FastPix console] Dropped: {NAME}" in mail
    assert f"{NAME}: the encoder disconnected at" in mail
    assert f"https://console.example.com/streams/{stream['streamId']}/" in mail

    assert len(hook.bodies) == 1
    [text] = hook.texts()
    assert text.startswith(f"[FastPix console] Dropped: {NAME}\n{NAME}: the encoder disconnected at ")
    assert "or FastPix ends the broadcast" in text

    for channel in ("email", "webhook"):
        sent = only_notification(channel)
        assert (sent.state, sent.attempts, sent.last_error) == ("sent", 1, "")
        assert sent.sent_at is not None
    assert Incident.objects.count() == 1

    # No secret in anything that left: not the stream key, not the SRT secret, whatever the encoding.
    for secret in (stream["streamKey"], stream["srtSecret"]):
        assert secret
        for raw in (raw_mail, *hook.bodies):
            assert secret.encode() not in raw
            assert secret.encode() not in raw.replace(b"=\r\n", b"")  # quoted-printable line breaks


def test_did_not_reconnect_is_told_too_and_a_reconnect_is_told_nothing_more(
    emulator: EmulatorControl, client: Client, smtp: Mailbox, hook: Receiver
) -> None:
    stream = dropped_stream(emulator, client)
    run_jobs()
    emulator.connect(stream["streamId"])
    post_event(client, stream_event("connected", emulator.stream_state(stream["streamId"])["stream"]))
    run_jobs(times=2)

    assert len(smtp.messages) == len(hook.bodies) == 1  # the reconnection closed the drop, silently

    emulator.disconnect(stream["streamId"], ago=61)  # FastPix ends the broadcast at once
    state = emulator.stream_state(stream["streamId"])["stream"]
    assert state["status"] == "idle"
    dropped_again = {**state, "status": "active"}
    post_event(client, stream_event("disconnected", dropped_again))
    run_jobs()
    post_event(client, stream_event("idle", state))
    run_jobs(times=2)

    subjects = [text.split("\n", 1)[0] for text in hook.texts()]
    assert subjects == [
        f"[FastPix console] Dropped: {NAME}",
        f"[FastPix console] Dropped: {NAME}",
        f"[FastPix console] Did not reconnect: {NAME}",
    ]
    assert len(smtp.messages) == 3
    assert "did not return within the 60 s reconnect window" in hook.texts()[2]


def told(name: str) -> None:
    """An incident about a stream of this name, opened and sent by the jobs (the name as FastPix gave it)."""
    now = timezone.now()
    sid = "0123456789abcdef0123456789abcdef"
    alerts.open_incident(
        f"drop:{sid}:t", "drop", sid, name, now, f"{name}: the encoder disconnected.", now=now
    )
    notify.send_due()


def test_a_stream_name_cannot_ping_a_slack_channel_nor_make_a_link(smtp: Mailbox, hook: Receiver) -> None:
    told("<!channel> & <https://evil.example|click me>")

    [text] = hook.texts()
    assert text == (
        "[FastPix console] Dropped: &lt;!channel&gt; &amp; &lt;https://evil.example|click me&gt;\n"
        "&lt;!channel&gt; &amp; &lt;https://evil.example|click me&gt;: the encoder disconnected.\n"
        "Open the stream in the console: https://console.example.com/streams/0123456789abcdef0123456789abcdef/"
    )
    mail = smtp.messages[0][2].decode()
    assert "<!channel> & <https://evil.example|click me>: the encoder disconnected." in mail  # plain text
    assert {n.state for n in Notification.objects.all()} == {"sent"}


def test_a_line_break_in_a_stream_name_does_not_break_the_email_subject(
    smtp: Mailbox, hook: Receiver
) -> None:
    told("Main\r\nBcc: someone@example.com\n\tstage")

    assert [n.state for n in Notification.objects.order_by("channel")] == ["sent", "sent"]
    [(_, recipients, raw_mail)] = smtp.messages
    assert sorted(recipients) == sorted(ADDRESSES)
    assert "Subject: [FastPix console] Dropped: Main Bcc: someone@example.com stage\r\n" in raw_mail.decode()
    assert hook.texts()[0].startswith("[FastPix console] Dropped: Main Bcc: someone@example.com stage\n")


# --------------------------------------------------------------------------------------- back-off


def test_a_webhook_answering_500_is_retried_with_back_off_then_sent(
    emulator: EmulatorControl, client: Client, hook: Receiver
) -> None:
    hook.answers = [500, 500]
    dropped_stream(emulator, client)
    start = timezone.now() + timedelta(hours=1)  # a driven clock ahead of the real one: times are exact

    run_jobs(now=start)
    failed = only_notification("webhook")
    assert (failed.state, failed.attempts) == ("pending", 1)
    assert failed.last_error == "DeliveryFailed: the webhook answered HTTP 500"
    assert failed.next_attempt_at == start + timedelta(seconds=2)

    run_jobs(times=3, now=start + timedelta(seconds=1.9))  # not due yet
    assert len(hook.bodies) == 1

    run_jobs(now=start + timedelta(seconds=2))
    again = only_notification("webhook")
    assert (again.state, again.attempts) == ("pending", 2)
    assert again.next_attempt_at == start + timedelta(seconds=2 + 4)  # doubled

    run_jobs(now=start + timedelta(seconds=5.9))
    assert len(hook.bodies) == 2
    run_jobs(times=2, now=start + timedelta(seconds=6))

    sent = only_notification("webhook")
    assert (sent.state, sent.attempts) == ("sent", 3)
    assert sent.last_error == "DeliveryFailed: the webhook answered HTTP 500"  # kept for the inspector
    assert len(hook.bodies) == 3
    assert len(set(hook.bodies)) == 1  # the same message each time


def test_the_back_off_doubles_up_to_its_cap(settings: Any) -> None:
    settings.ALERT_RETRY_SECONDS = 5
    settings.ALERT_RETRY_MAX_SECONDS = 60
    assert [notify.backoff(n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_smtp_down_records_each_failed_attempt_then_gives_up_and_no_page_waits_for_it(
    emulator: EmulatorControl, client: Client, settings: Any, admin_client: Client
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    settings.ALERT_EMAILS = ADDRESSES
    stream = dropped_stream(emulator, client)
    start = timezone.now()

    for step in range(5):
        run_jobs(now=start + timedelta(seconds=60 * step))

    failed = only_notification("email")
    assert (failed.state, failed.attempts) == ("failed", 3)  # ALERT_MAX_ATTEMPTS
    assert "ConnectionRefusedError" in failed.last_error

    began = time.monotonic()
    page = admin_client.get(f"/streams/{stream['streamId']}/")
    assert page.status_code == 200
    assert time.monotonic() - began < 2
    assert "Encoder disconnected" in page.content.decode()

    inspector = admin_client.get("/events/").content.decode()
    assert "Incidents and notifications" in inspector
    assert "e-mail to producer@example.com, oncall@example.com" in inspector
    assert "Email: <strong>Failed, gave up</strong>, 3 attempts" in inspector
    assert "ConnectionRefusedError" in inspector


@pytest.mark.django_db(transaction=True)
def test_a_hanging_webhook_delays_no_page(
    emulator: EmulatorControl, client: Client, hook: Receiver, admin_client: Client, settings: Any
) -> None:
    settings.ALERT_TIMEOUT = 5
    hook.delay = 3
    stream = dropped_stream(emulator, client)
    alerts.detect()
    sending = threading.Thread(target=notify.send_due)
    sending.start()
    try:
        while not hook.bodies:  # the POST is in flight, its answer three seconds away
            time.sleep(0.01)
        began = time.monotonic()
        page = admin_client.get(f"/streams/{stream['streamId']}/")
        assert page.status_code == 200
        assert time.monotonic() - began < 1.5
    finally:
        sending.join()
    assert only_notification("webhook").state == "sent"


def test_the_webhook_url_is_a_secret_never_kept_in_an_error_nor_shown(
    emulator: EmulatorControl, client: Client, settings: Any, admin_client: Client
) -> None:
    settings.ALERT_WEBHOOK_URL = f"http://127.0.0.1:{free_port()}{HOOK_PATH}"  # refused
    dropped_stream(emulator, client)

    run_jobs()

    failed = only_notification("webhook")
    assert failed.attempts == 1
    assert failed.last_error
    assert "hook-token-not-to-be-told" not in failed.last_error
    inspector = admin_client.get("/events/").content.decode()
    assert "a webhook at 127.0.0.1" in inspector
    assert "hook-token-not-to-be-told" not in inspector


def test_two_runs_at_once_send_a_notification_once(
    emulator: EmulatorControl, client: Client, hook: Receiver
) -> None:
    dropped_stream(emulator, client)
    alerts.detect()
    notification = only_notification("webhook")
    now = timezone.now()

    # Both runs listed it as due; the first claim takes it, the second, at the same moment, cannot…
    assert notify._claim(notification.pk, now)
    assert not notify._claim(notification.pk, now)
    notify.send_due(now=now)  # … nor can a run that starts now
    assert hook.bodies == []


def test_a_run_of_slow_attempts_neither_collapses_the_back_off_nor_lets_a_standby_send_twice(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six due notifications whose target hangs each attempt for ALERT_TIMEOUT (10 s): the run lasts 60 s,
    longer than a claim's hold (2 × 10 + 30 s). Each claim and each outcome is timed by the clock as it is
    then, not as it was when the run began, so no claim is taken already expired."""
    settings.ALERT_EMAILS = []
    settings.ALERT_WEBHOOK_URL = "http://127.0.0.1:9/hook"
    settings.ALERT_TIMEOUT = 10
    clock = [timezone.now()]
    monkeypatch.setattr(notify, "timezone", SimpleNamespace(now=lambda: clock[0]))
    for n in range(6):
        alerts.open_incident(f"drop:s{n}:t", "drop", f"s{n}", NAME, clock[0], "Dropped.", now=clock[0])
    standby_took: list[bool] = []
    failed_at: dict[int, datetime] = {}

    def hung_until_the_timeout(incident: Incident) -> None:
        clock[0] += timedelta(seconds=10)
        row = Notification.objects.get(incident=incident)
        failed_at[row.pk] = clock[0]
        standby_took.append(notify._claim(row.pk, clock[0]))  # a standby's run, at this moment
        raise notify.DeliveryFailed("the webhook answered HTTP 504")

    monkeypatch.setitem(notify.SENDERS, Notification.Channel.WEBHOOK, hung_until_the_timeout)

    assert notify.send_due() == {"sent": 0, "retrying": 6, "gave_up": 0}

    assert standby_took == [False] * 6
    for row in Notification.objects.all():
        assert row.next_attempt_at == failed_at[row.pk] + timedelta(seconds=2)  # back-off from the failure


def test_the_worker_runs_detection_and_sending_as_jobs_of_their_own(
    emulator: EmulatorControl, client: Client, hook: Receiver
) -> None:
    jobs = {job.name: job for job in worker.JOBS}
    assert jobs["alerts"].every() <= 1
    assert jobs["notify"].every() <= 1
    dropped_stream(emulator, client)
    ctx = Context.standalone()
    try:
        assert worker.run_job(jobs["alerts"], ctx)
        assert worker.run_job(jobs["notify"], ctx)
    finally:
        ctx.close()

    assert len(hook.bodies) == 1
    assert WorkerRun.objects.get(job="alerts").detail["drops"] == 1
    assert WorkerRun.objects.get(job="notify").detail["sent"] == 1


def test_an_error_quoting_the_webhook_urls_parts_keeps_none_of_its_secrets(settings: Any) -> None:
    settings.ALERT_WEBHOOK_URL = (
        "https://ops:pw-not-to-be-told@hooks.example.com/services/T0/B0/path-secret?token=query-secret"
    )
    # As a client may quote it: rebuilt, or only in part.
    quoted = (
        "https://hooks.example.com/services/T0/B0/path-secret?token=query-secret, "
        "token=query-secret, ops:pw-not-to-be-told@hooks.example.com"
    )
    words = notify._error_text(ConnectionError(quoted))
    for secret in ("path-secret", "query-secret", "pw-not-to-be-told"):
        assert secret not in words
    assert "hooks.example.com" in words  # what failed stays readable
