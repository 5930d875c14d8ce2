"""The reconciler: a walk of FastPix's whole list heals whatever webhooks missed, and the refresher keeps
statuses current when no webhook arrives. Real HTTP to the emulator."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from streams.client import FastPixClient, LiveStream, Page, get_client
from streams.models import MirroredStream, WorkerRun
from streams.workspace import reconcile
from streams.workspace.pacing import Context, Interrupted, JobFailed
from streams.workspace.worker import JOBS, run_job

pytestmark = pytest.mark.django_db


def job(name: str) -> Any:
    return next(job for job in JOBS if job.name == name)


def named(emulator: Any, name: str, **fields: Any) -> str:
    return str(emulator.create_stream(metadata={"livestream_name": name}, **fields)["streamId"])


def row(stream_id: str) -> MirroredStream:
    return MirroredStream.objects.get(stream_id=stream_id)


def list_queries(emulator: Any) -> list[dict[str, list[str]]]:
    return [parse_qs(r["query"]) for r in emulator.requests(path_regex=r"/v1/live/streams$", method="GET")]


class AfterPage:
    """The worker's client, with something done in FastPix right after a given list page was read."""

    def __init__(self, client: FastPixClient, page: int, action: Any) -> None:
        self._client = client
        self._page = page
        self._action = action

    def list_streams(self, *, page: int = 1, limit: int = 10, order: Any = "desc") -> Page[LiveStream]:
        result = self._client.list_streams(page=page, limit=limit, order=order)
        if page == self._page:
            self._action()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_change_made_in_fastpix_without_a_webhook_is_in_the_mirror_after_one_reconcile(
    emulator: Any,
) -> None:
    going_live = named(emulator, "Going live")
    edited = named(emulator, "Before the edit")
    deleted = named(emulator, "To be deleted")
    reconcile.reconcile(Context.standalone())
    assert row(going_live).status == "idle"

    emulator.connect(going_live)
    emulator.go_live(going_live)
    get_client().update_stream(
        edited, metadata={"livestream_name": "After the edit", "room": "B"}, reconnect_window=90
    )
    get_client().delete_stream(deleted)
    detail = reconcile.reconcile(Context.standalone())

    assert row(going_live).status == "active"
    assert row(going_live).live_since is not None
    assert (row(edited).name, row(edited).metadata["room"]) == ("After the edit", "B")
    assert row(edited).settings["reconnect_window"] == 90
    assert row(deleted).deleted_at is not None
    assert (detail["checked"], detail["forgotten"], detail["complete"]) == (1, 1, True)


def test_the_walk_reads_every_page_at_the_largest_page_size_fastpix_allows(emulator: Any) -> None:
    ids = {named(emulator, f"Stream {n}") for n in range(120)}
    emulator.clear_requests()
    detail = reconcile.reconcile(Context.standalone())

    assert set(MirroredStream.objects.values_list("stream_id", flat=True)) == ids
    assert [(q["limit"], q["offset"]) for q in list_queries(emulator)] == [
        (["50"], ["1"]),
        (["50"], ["2"]),
        (["50"], ["3"]),
    ]
    assert (detail["pages"], detail["streams"], detail["checked"]) == (3, 120, 0)


def test_streams_created_and_deleted_mid_walk_never_make_another_stream_disappear(emulator: Any) -> None:
    ids = [
        named(emulator, f"Stream {n:03}", createdAt=f"2026-01-01T00:{n // 60:02}:{n % 60:02}Z")
        for n in range(100)
    ]
    reconcile.reconcile(Context.standalone())  # the mirror knows all 100
    created: list[str] = []

    def meanwhile() -> None:
        # After page 1: the oldest stream goes (every later row moves up one place, so the first row of
        # page 2 is now on page 1, already read) and a new one comes.
        get_client().delete_stream(ids[0])
        created.append(named(emulator, "Created mid-walk"))

    ctx = Context.standalone()
    ctx.client = AfterPage(ctx.client, 1, meanwhile)  # type: ignore[assignment]
    detail = reconcile.reconcile(ctx)

    assert detail["checked"] == 1  # the row that moved to page 1 was not on any page this walk read
    live = set(MirroredStream.objects.filter(deleted_at=None).values_list("stream_id", flat=True))
    assert set(ids[1:]) <= live  # the shifted stream is still there: it was read by id, not forgotten
    assert created[0] in live
    assert row(ids[0]).deleted_at is None  # seen on page 1 before it went: the next walk forgets it

    reconcile.reconcile(Context.standalone())
    assert row(ids[0]).deleted_at is not None


def test_a_429_with_retry_after_is_honoured_and_the_same_page_read_again(emulator: Any) -> None:
    for n in range(60):
        named(emulator, f"Stream {n}")
    emulator.clear_requests()
    emulator.add_fault(r"^/v1/live/streams$", method="GET", status=429, retry_after=1, times=1)
    started = time.monotonic()
    detail = reconcile.reconcile(Context.standalone())

    assert time.monotonic() - started >= 1.0
    log = emulator.requests(path_regex=r"/v1/live/streams$", method="GET")
    assert [(r["status"], parse_qs(r["query"])["offset"]) for r in log] == [
        (429, ["1"]),
        (200, ["1"]),
        (200, ["2"]),
    ]
    gap = datetime.fromisoformat(log[1]["time"]) - datetime.fromisoformat(log[0]["time"])
    assert gap >= timedelta(seconds=0.95)
    assert (detail["pages"], detail["streams"]) == (2, 60)
    assert MirroredStream.objects.count() == 60


def test_fastpix_down_keeps_the_mirror_and_records_the_error(emulator: Any) -> None:
    kept = named(emulator, "Kept")
    assert run_job(job("reconcile"), Context.standalone())
    synced_at = WorkerRun.objects.get(job="reconcile").ok_at
    emulator.add_fault(r"^/v1/live/", status=503, times=None)

    assert not run_job(job("reconcile"), Context.standalone())

    run = WorkerRun.objects.get(job="reconcile")
    assert "503" in run.error
    assert "page 1" in run.error
    assert run.ok_at == synced_at  # the mirror still says when it was last synced
    assert run.finished_at is not None
    assert run.finished_at > synced_at
    assert run.detail["complete"] is False
    assert row(kept).deleted_at is None
    assert row(kept).status == "idle"


def test_a_walk_that_fails_part_way_applies_what_it_read_and_forgets_nothing(emulator: Any) -> None:
    gone_before = named(emulator, "Already gone")
    reconcile.reconcile(Context.standalone())
    get_client().delete_stream(gone_before)  # absent from FastPix, but the walk below never completes
    ids = [named(emulator, f"Stream {n}") for n in range(70)]

    ctx = Context.standalone()
    ctx.client = AfterPage(  # type: ignore[assignment]
        ctx.client, 1, lambda: emulator.add_fault(r"^/v1/live/streams$", method="GET", status=502, times=None)
    )
    with pytest.raises(JobFailed) as failed:
        reconcile.reconcile(ctx)

    assert "page 2" in str(failed.value)
    assert failed.value.detail["pages"] == 1
    assert MirroredStream.objects.filter(stream_id__in=ids).count() == 50  # page 1 is applied
    assert row(gone_before).deleted_at is None  # nothing is forgotten after an incomplete walk


def test_the_refresh_reads_the_newest_page_and_every_stream_whose_status_moves(emulator: Any) -> None:
    ended = named(emulator, "Was live", status="active", createdAt="2025-01-01T00:00:00Z")
    preparing = named(emulator, "Preparing", status="preparing", createdAt="2025-01-02T00:00:00Z")
    quiet = named(emulator, "Quiet", createdAt="2025-01-03T00:00:00Z")
    for n in range(50):
        named(emulator, f"Newer {n}")
    reconcile.reconcile(Context.standalone())
    get_client().finish_stream(ended)  # no webhook tells the console
    emulator.go_live(preparing)
    emulator.clear_requests()
    newcomer = named(emulator, "Newcomer")

    detail = reconcile.refresh(Context.standalone())

    assert (row(ended).status, row(preparing).status, row(newcomer).status) == ("idle", "active", "idle")
    reads = {
        r["path"].rsplit("/", 1)[1] for r in emulator.requests(path_regex=r"/v1/live/streams/[0-9a-f]{32}$")
    }
    assert reads == {ended, preparing}  # not the quiet stream, nor the ones the newest page showed
    assert quiet not in reads
    assert [(q["limit"], q["offset"], q["orderBy"]) for q in list_queries(emulator)] == [
        (["50"], ["1"], ["desc"])
    ]
    assert (detail["newest"], detail["reread"]) == (50, 2)


def test_a_page_that_arrives_after_the_lease_was_lost_is_not_written(emulator: Any) -> None:
    # The lease lapses while page 2 is in flight (the worker was paused, its renewals failed): a standby may
    # be working already, so what this worker reads from then on is not its to write, nor its walk to finish.
    ids = [
        named(emulator, f"Stream {n:03}", createdAt=f"2026-01-01T00:{n // 60:02}:{n % 60:02}Z")
        for n in range(70)
    ]
    held = threading.Event()
    held.set()
    ctx = Context.standalone()
    ctx.lease_valid = held.is_set
    ctx.client = AfterPage(ctx.client, 2, held.clear)  # type: ignore[assignment]

    with pytest.raises(Interrupted):
        reconcile.reconcile(ctx)

    assert set(MirroredStream.objects.values_list("stream_id", flat=True)) == set(ids[:50])  # page 1 only


def test_a_429_on_a_read_by_id_is_honoured_and_the_stream_read_again(emulator: Any) -> None:
    # FastPix allows fewer calls than the worker's limit: the reads by id of streams gone from the list
    # meet 429s. Each is read again once the pause is over, so the deleted streams still leave the mirror.
    ids = [named(emulator, f"Stream {n}") for n in range(30)]
    reconcile.reconcile(Context.standalone())
    for stream_id in ids[:12]:
        get_client().delete_stream(stream_id)  # no webhook tells the console
    emulator.settings(rate_limit=5)
    try:
        detail = reconcile.reconcile(Context.standalone())
    finally:
        emulator.settings(rate_limit=0)

    assert any(r["status"] == 429 for r in emulator.requests(path_regex=r"/v1/live/streams/[0-9a-f]{32}$"))
    assert (detail["checked"], detail["forgotten"], detail["complete"]) == (12, 12, True)
    gone = MirroredStream.objects.filter(deleted_at__isnull=False).values_list("stream_id", flat=True)
    assert set(gone) == set(ids[:12])
