"""/healthz reports how fresh the console's memory is: seconds since the last event, reconcile, sample and
refresh, null when they never happened, next to the fields it always had."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from streams.models import ReceivedEvent, WorkerRun

pytestmark = pytest.mark.django_db


def test_ages_are_null_before_anything_happened(client: Client, emulator: Any) -> None:
    body = client.get("/healthz").json()

    assert body == {
        "status": "ok",
        "fastpix": "ok",
        "ages": {"last_event": None, "last_reconcile": None, "last_sample": None, "last_refresh": None},
    }


def test_ages_count_the_seconds_since_each(client: Client, emulator: Any) -> None:
    now = timezone.now()
    ReceivedEvent.objects.create(
        received_at=now - timedelta(seconds=90), signature="missing", verdict="rejected"
    )
    ReceivedEvent.objects.create(received_at=now - timedelta(seconds=7), signature="valid", verdict="applied")
    WorkerRun.objects.create(job="reconcile", started_at=now, ok_at=now - timedelta(seconds=45))
    WorkerRun.objects.create(job="sample", started_at=now, ok_at=now - timedelta(seconds=3))
    WorkerRun.objects.create(job="refresh", started_at=now, ok_at=None, error="FastPix is not answering")

    ages = client.get("/healthz").json()["ages"]

    assert 7 <= ages["last_event"] < 9  # the newest event, whatever its verdict
    assert 45 <= ages["last_reconcile"] < 47
    assert 3 <= ages["last_sample"] < 5
    assert ages["last_refresh"] is None  # it ran, but never succeeded


def test_the_ages_cost_two_small_queries(client: Client, emulator: Any) -> None:
    client.get("/healthz")  # FastPix's answer is cached from here on
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/healthz").status_code == 200

    assert len(queries) == 2
