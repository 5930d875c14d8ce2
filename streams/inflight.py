"""One mutation per click, across processes and machines: the in-flight rows of `ActionAttempt`.

`begin()` inserts an unfinished row; the partial unique constraint admits one per (stream, action), so
whoever inserts second learns that the same action is already in flight, and waits for its result
(`wait_for()`) instead of sending it again. `finish()` closes the row when the call has ended, whatever
happened, so the next attempt is never blocked. A row whose process died mid-call is closed as unknown
once it expires; expiry lies beyond the longest an action can take (`lock_seconds()`), so a lock never
expires during the call it guards.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.utils import timezone

from streams.models import ActionAttempt, AuditEntry

# What the client waits at most for FastPix's Retry-After on a 429 (streams/client.py max_retry_after).
MAX_RETRY_AFTER = 10.0
WAIT_STEP = 0.1
# A second click waits this long at most for the first one's result, then says it is still in flight: a
# request must not hang for as long as a lock can last (a proxy would answer 504 for it).
WAIT_LIMIT = 30.0


def lock_seconds() -> float:
    """The longest an action can take: a read, the mutation (sent again once at most, after a 429 that
    asked for at most MAX_RETRY_AFTER seconds), and a re-read, each bounded by FASTPIX_TIMEOUT; plus slack.
    Not every retry the client may make: under repeated 429s and timeouts an action can outlast it, and a
    click after that sends the mutation again (FastPix refuses it as done already, and the user reads so). A
    lock long enough for every retry (about 5 minutes) would also keep a producer from finishing for that
    long after a process died mid-call, which is worse."""
    timeout = float(settings.FASTPIX_TIMEOUT)
    return timeout * 4 + MAX_RETRY_AFTER + 10


def begin(stream_id: str, action: str, user: object) -> tuple[ActionAttempt | None, ActionAttempt | None]:
    """(mine, None): this request now holds the action. (None, theirs): the same action is in flight."""
    user_id = getattr(user, "pk", None)
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                mine = ActionAttempt.objects.create(
                    stream_id=stream_id,
                    action=action,
                    user_id=user_id,
                    started_at=now,
                    expires_at=now + timedelta(seconds=lock_seconds()),
                )
            return mine, None
        except IntegrityError:
            theirs = ActionAttempt.objects.filter(
                stream_id=stream_id, action=action, finished_at__isnull=True
            ).first()
            if theirs is None:
                continue  # it finished between our insert and our look: try again
            if theirs.expires_at > now:
                return None, theirs
            # Its process stopped mid-call (a crash, a restart): close it as unknown, then try again.
            ActionAttempt.objects.filter(pk=theirs.pk, finished_at__isnull=True).update(
                finished_at=now,
                outcome=AuditEntry.Outcome.UNKNOWN,
                level=messages.WARNING,
                text="The console stopped before FastPix answered, so the outcome is not known.",
            )
    theirs = ActionAttempt.objects.filter(stream_id=stream_id, action=action).order_by("-started_at").first()
    return None, theirs


def finish(attempt: ActionAttempt, *, outcome: str, level: int, text: str) -> None:
    """Close the attempt with what the user was told; the action is free again."""
    ActionAttempt.objects.filter(pk=attempt.pk).update(
        finished_at=timezone.now(), outcome=outcome, level=level, text=text
    )


def wait_for(attempt: ActionAttempt) -> ActionAttempt | None:
    """The attempt once it has finished, or None if it is still in flight when its lock expires or after
    WAIT_LIMIT seconds, whichever comes first."""
    remaining = max((attempt.expires_at - timezone.now()).total_seconds(), 0.0)
    deadline = time.monotonic() + min(remaining, WAIT_LIMIT)
    while True:
        done = ActionAttempt.objects.filter(pk=attempt.pk, finished_at__isnull=False).first()
        if done is not None or time.monotonic() >= deadline:
            return done
        time.sleep(WAIT_STEP)
