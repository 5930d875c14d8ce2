"""Telling people about incidents: one `Notification` per incident and channel, sent by the worker.

Channels, from the settings: ALERT_EMAILS (one e-mail to all of them, through Django's e-mail backend,
EMAIL_URL) and ALERT_WEBHOOK_URL (one JSON POST `{"text": …}`, which Slack's incoming webhooks and their
many look-alikes accept). `queue` makes the rows when an incident opens (streams/workspace/alerts.py), in
its transaction; the worker's `send_due` job sends what is due, one at a time, each bounded by
ALERT_TIMEOUT, on a lane of its own: a slow or dead target delays no page and no other job.

A failed attempt is counted and kept (`last_error`), and the next one waits ALERT_RETRY_SECONDS doubled
per failure, at most ALERT_RETRY_MAX_SECONDS; after ALERT_MAX_ATTEMPTS the row gives up (`failed`). Before
sending, a run claims the row by moving its next attempt past the longest a send can take, so two runs (a
worker and a standby that just took over, or a test calling the job by hand) do not both send it. Delivery
is at least once, not exactly once: a worker killed after a send succeeded but before its outcome was
written leaves the row pending, and it is sent again once the claim's hold has passed.

What a notification says is the incident's summary (name, status, times) and a link to the stream in the
console (CONSOLE_URL): never a secret. The webhook URL itself is one (Slack's carries its token), so it is
never logged or kept in an error, and the inspector names only its host.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from streams.models import Incident, Notification
from streams.workspace.pacing import Context

log = logging.getLogger(__name__)

Channel = Notification.Channel
State = Notification.State

BATCH = 20  # notifications sent per run at most; the rest wait for the next run, a second later
ERROR_LENGTH = 500
SUBJECT_PREFIX = "[FastPix console]"


class DeliveryFailed(Exception):
    """The target answered, but not with a success."""


def channels() -> list[str]:
    """The configured channels, in sending order."""
    configured: list[str] = []
    if settings.ALERT_EMAILS:
        configured.append(Channel.EMAIL)
    if settings.ALERT_WEBHOOK_URL:
        configured.append(Channel.WEBHOOK)
    return configured


def webhook_host() -> str:
    """Where the webhook goes, as far as anyone may be told: its host only."""
    return urlsplit(settings.ALERT_WEBHOOK_URL).hostname or ""


def queue(incident: Incident, now: datetime | None = None) -> int:
    """One pending notification per configured channel, due now. Returns how many."""
    due = now or timezone.now()
    rows = [Notification(incident=incident, channel=channel, next_attempt_at=due) for channel in channels()]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones."""
    base = float(settings.ALERT_RETRY_SECONDS)
    return min(base * 2 ** max(attempts - 1, 0), float(settings.ALERT_RETRY_MAX_SECONDS))


def console_link(incident: Incident) -> str:
    """The stream's page in the console, when the console knows its own address (CONSOLE_URL)."""
    if not settings.CONSOLE_URL or not incident.stream_id:
        return ""
    return settings.CONSOLE_URL + reverse("stream-detail", args=[incident.stream_id])


def subject(incident: Incident) -> str:
    """One line: whitespace collapsed, since a line break in a stream's name (its metadata, any text) would
    make every attempt at the e-mail's Subject header fail (BadHeaderError)."""
    name = incident.stream_name or incident.stream_id or "a stream"
    return " ".join(f"{SUBJECT_PREFIX} {incident.get_kind_display()}: {name}".split())


def text(incident: Incident) -> str:
    """What every channel says: the incident's summary and, when known, where to look."""
    summary = str(incident.detail.get("summary") or incident.get_kind_display())
    link = console_link(incident)
    return f"{summary}\nOpen the stream in the console: {link}" if link else summary


def slack_escaped(words: str) -> str:
    """Text as Slack's message format needs it: &, < and > escaped, so that a stream's name cannot mention
    <!channel> (ping everyone), make a link or mention a user. Nothing else is escaped."""
    return words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _send_email(incident: Incident) -> None:
    message = EmailMessage(
        subject=subject(incident),
        body=text(incident),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(settings.ALERT_EMAILS),
    )
    message.send(fail_silently=False)


def _send_webhook(incident: Incident) -> None:
    # Never follows a redirect: the URL is the one the administrator configured, and nothing else.
    response = httpx.post(
        settings.ALERT_WEBHOOK_URL,
        json={"text": slack_escaped(f"{subject(incident)}\n{text(incident)}")},
        timeout=float(settings.ALERT_TIMEOUT),
        follow_redirects=False,
    )
    if not response.is_success:
        raise DeliveryFailed(f"the webhook answered HTTP {response.status_code}")


SENDERS = {Channel.EMAIL: _send_email, Channel.WEBHOOK: _send_webhook}


def _error_text(exc: Exception) -> str:
    """The failure in words, without the webhook URL (a secret) and cut to a length the inspector shows.
    Its parts that may carry a token (path, query, password) are masked wherever they appear alone too,
    as an error may quote the URL as the client rebuilt it."""
    words = f"{type(exc).__name__}: {exc}"
    url = settings.ALERT_WEBHOOK_URL
    if url:
        words = words.replace(url, f"[webhook at {webhook_host()}]")
        parts = urlsplit(url)
        for secret, mask in (
            (parts.path, "[path]"),
            (parts.query, "[query]"),
            (parts.password, "[password]"),
        ):
            if secret and len(secret) > 1:
                words = words.replace(secret, mask)
    return words[:ERROR_LENGTH]


def _clock(now: datetime | None) -> datetime:
    """The time now, or the time a test drives (`now`) when that is later. Read afresh for each claim and
    each outcome: a run's attempts can take ALERT_TIMEOUT each, so the run's start soon lies in the past."""
    current = timezone.now()
    return current if now is None else max(now, current)


def _claim(pk: int, now: datetime) -> bool:
    """Take the notification for this run: nobody else sends it until the attempt's outcome is written (or,
    should this run die first, until the hold has passed)."""
    hold = now + timedelta(seconds=2 * float(settings.ALERT_TIMEOUT) + 30)
    return bool(
        Notification.objects.filter(pk=pk, state=State.PENDING, next_attempt_at__lte=now).update(
            next_attempt_at=hold
        )
    )


def send_one(notification: Notification, now: datetime | None = None) -> str:
    """One attempt at a claimed notification; writes its outcome. Returns the new state. The next attempt
    is due `backoff` after the attempt ended (`_clock`: the later of the clock and `now`, which a test can
    drive), not after the run began."""
    incident = notification.incident
    attempts = notification.attempts + 1
    try:
        SENDERS[Channel(notification.channel)](incident)
    except Exception as exc:  # whatever the target or the network did: counted, kept, retried
        error = _error_text(exc)
        finished = _clock(now)
        gave_up = attempts >= int(settings.ALERT_MAX_ATTEMPTS)
        state = State.FAILED if gave_up else State.PENDING
        Notification.objects.filter(pk=notification.pk).update(
            state=state,
            attempts=attempts,
            last_error=error,
            next_attempt_at=finished + timedelta(seconds=0 if gave_up else backoff(attempts)),
        )
        log.warning(
            "%s notification of incident %s failed (attempt %d%s): %s",
            notification.channel,
            incident.key,
            attempts,
            ", gave up" if gave_up else "",
            error,
        )
        return state
    Notification.objects.filter(pk=notification.pk).update(
        state=State.SENT, attempts=attempts, sent_at=timezone.now()
    )
    log.info("%s notification of incident %s sent (attempt %d)", notification.channel, incident.key, attempts)
    return State.SENT


def send_due(ctx: Context | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The worker's job: every due notification (at most BATCH), one attempt each."""
    due = list(
        Notification.objects.filter(state=State.PENDING, next_attempt_at__lte=_clock(now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:BATCH]
    )
    outcome = {"sent": 0, "retrying": 0, "gave_up": 0}
    for pk in due:
        if ctx is not None:
            ctx.check()
        if not _claim(pk, _clock(now)):  # this moment's time: the hold must outlast this attempt
            continue  # sent or claimed meanwhile by another run
        notification = Notification.objects.select_related("incident").get(pk=pk)
        state = send_one(notification, now)
        outcome[{State.SENT: "sent", State.PENDING: "retrying", State.FAILED: "gave_up"}[State(state)]] += 1
    return outcome
