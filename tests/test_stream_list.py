"""The streams list before the console's mirror is synced (no complete read of the workspace yet):
FastPix's own paging, live numbers, and what it costs FastPix. The list from the mirror, with search,
filters and sorts, is tests/test_stream_search.py."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.test import Client

from streams.workspace.freshness import freshness

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _before_the_first_complete_read(db: None) -> None:
    assert not freshness().synced  # every test here is of the fallback: FastPix's own paging


def make_streams(emulator: Any, count: int, **fields: Any) -> list[dict[str, Any]]:
    return [
        emulator.create_stream(metadata={"livestream_name": f"Stream {n:02d}"}, **fields)
        for n in range(1, count + 1)
    ]


def test_the_list_shows_names_statuses_and_viewers(admin_client: Client, emulator: Any) -> None:
    live = emulator.create_stream(status="active", views=214, metadata={"livestream_name": "Main stage"})
    emulator.create_stream(status="idle")
    response = admin_client.get("/streams/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Main stage" in html
    assert f'id="viewers-{live["streamId"]}" class="num">214' in html.replace("\n", "")
    assert "Viewers (approx.)" in html
    assert 'class="badge badge-active">Live<' in html
    assert 'class="badge badge-idle">Idle<' in html


def test_a_stream_without_a_name_shows_its_shortened_id(admin_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream()
    html = admin_client.get("/streams/").content.decode()
    assert f"{stream['streamId'][:8]}…" in html


def test_paging_follows_fastpix_pages_and_the_url_carries_page_size_and_order(
    admin_client: Client, emulator: Any
) -> None:
    make_streams(emulator, 30)
    html = admin_client.get("/streams/?page=2&size=25&order=oldest").content.decode()
    assert "Stream 26" in html
    assert "Stream 30" in html
    assert "Stream 25" not in html
    assert 'aria-current="page" aria-label="Page 2"' in html
    assert "?page=1&amp;size=25&amp;order=oldest" in html  # previous keeps size and order
    calls = emulator.requests(path_regex=r"^/v1/live/streams$")
    assert parse_qs(calls[-1]["query"]) == {"limit": ["25"], "offset": ["2"], "orderBy": ["asc"]}


def test_newest_first_is_the_default_order(admin_client: Client, emulator: Any) -> None:
    make_streams(emulator, 3)
    html = admin_client.get("/streams/").content.decode()
    assert html.index("Stream 03") < html.index("Stream 01")


def test_an_unknown_page_size_falls_back_to_ten(admin_client: Client, emulator: Any) -> None:
    make_streams(emulator, 12)
    html = admin_client.get("/streams/?size=999").content.decode()
    assert html.count('class="stream-name"') == 10


def test_an_empty_workspace_says_so(admin_client: Client, emulator: Any) -> None:
    html = admin_client.get("/streams/").content.decode()
    assert "No streams yet" in html
    assert "Create the first one" in html


def test_a_page_past_the_end_says_so_plainly(admin_client: Client, emulator: Any) -> None:
    make_streams(emulator, 3)
    html = admin_client.get("/streams/?page=9").content.decode()
    assert "Page 9 is past the end" in html
    assert "Go to the first page" in html


def test_an_htmx_page_change_returns_only_the_table(admin_client: Client, emulator: Any) -> None:
    make_streams(emulator, 12)
    response = admin_client.get("/streams/?page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="stream-table")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="stream-table">')
    assert "<html" not in html
    assert response["Vary"].count("HX-Request") == 1


def test_one_render_costs_one_list_call_plus_one_count_per_active_stream(
    admin_client: Client, emulator: Any
) -> None:
    for n in range(4):
        emulator.create_stream(status="active", views=n)
    make_streams(emulator, 3)
    emulator.clear_requests()
    admin_client.get("/streams/")
    paths = [r["path"] for r in emulator.requests()]
    assert paths.count("/v1/live/streams") == 1
    assert len([p for p in paths if p.endswith("/viewer-count")]) == 4
    assert len(paths) == 5


@pytest.mark.django_db(transaction=True)  # the pollers' threads must see the committed session
def test_concurrent_pollers_within_one_period_add_no_viewer_count_calls(
    admin_client: Client, emulator: Any, settings: Any
) -> None:
    settings.VIEWER_COUNT_TTL = 60
    for n in range(3):
        emulator.create_stream(status="active", views=n)
    admin_client.get("/streams/")
    emulator.clear_requests()
    session_cookie = admin_client.cookies

    def poll(_: int) -> int:
        client = Client()
        client.cookies = session_cookie
        return client.get("/streams/live/?page=1&size=10&order=newest").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(poll, range(40))) == {200}
    assert emulator.requests() == []


def test_the_poll_refreshes_status_and_viewers_as_out_of_band_swaps(
    admin_client: Client, emulator: Any, settings: Any
) -> None:
    settings.VIEWER_COUNT_TTL = 0.5
    stream = emulator.create_stream(status="active", views=10)
    admin_client.get("/streams/")
    emulator.set_viewers(stream["streamId"], 77)
    from django.core.cache import cache

    cache.clear()
    html = admin_client.get("/streams/live/?page=1&size=10&order=newest").content.decode()
    assert '<div id="stream-table" hx-swap-oob="morph">' in html
    assert f'<td id="viewers-{stream["streamId"]}" class="num">77</td>' in html.replace("\n", "")
    assert 'id="list-poller" data-poll' in html
    assert f"load delay:{settings.LIVE_POLL_SECONDS}s" in html
    assert settings.LIVE_POLL_SECONDS == 1  # the default: polls cost no FastPix call once mirrored


def test_the_poll_backs_off_while_fastpix_fails(admin_client: Client, emulator: Any) -> None:
    emulator.add_fault(path_regex=r"^/v1/live/streams$", method="GET", status=503, times=None)
    response = admin_client.get("/streams/live/?page=1&size=10&order=newest")
    html = response.content.decode()
    assert response.status_code == 200
    assert "load delay:30s" in html
    assert "FastPix is not answering" in html


def test_fastpix_failing_shows_a_banner_with_a_retry_not_a_500(admin_client: Client, emulator: Any) -> None:
    emulator.add_fault(path_regex=r"^/v1/live/streams$", method="GET", status=502, times=None)
    response = admin_client.get("/streams/")
    html = response.content.decode()
    assert response.status_code == 503
    assert "FastPix is not answering — retrying" in html
    assert "Try again now" in html
    assert '<nav class="main-nav"' in html  # the frame still renders


def test_wrong_credentials_show_a_configuration_message(
    admin_client: Client, emulator: Any, settings: Any
) -> None:
    from streams.client import reset_client

    settings.FASTPIX_SECRET_KEY = "wrong"
    reset_client()
    response = admin_client.get("/streams/")
    assert response.status_code == 503
    assert "FastPix refused the console&#x27;s credentials" in response.content.decode()
    assert "FASTPIX_SECRET_KEY" in response.content.decode()


def test_fastpix_unreachable_shows_the_retrying_banner(admin_client: Client, settings: Any, db: None) -> None:
    from streams.client import reset_client

    settings.FASTPIX_API_BASE = "http://127.0.0.1:9/v1"
    reset_client()
    response = admin_client.get("/streams/")
    assert response.status_code == 503
    assert "FastPix is not answering — retrying" in response.content.decode()


def test_hostile_metadata_renders_inert(admin_client: Client, emulator: Any) -> None:
    hostile = '<script>alert("x")</script> "quoted" \'single\' 🎥'
    emulator.create_stream(metadata={"livestream_name": hostile})
    html = admin_client.get("/streams/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "🎥" in html


def test_polls_keep_answering_while_fastpix_keeps_failing(admin_client: Client, emulator: Any) -> None:
    emulator.create_stream(status="active", views=3)
    admin_client.get("/streams/")
    emulator.add_fault(path_regex=r"/viewer-count$", method="GET", status=503, times=None)
    from django.core.cache import cache

    cache.clear()  # nothing remembered: the next read of the table asks FastPix for the count
    for _ in range(3):  # the table that remembers the failed count is served to the next polls
        response = admin_client.get("/streams/live/?page=1&size=10&order=newest")
        assert response.status_code == 200
        assert "load delay:30s" in response.content.decode()
