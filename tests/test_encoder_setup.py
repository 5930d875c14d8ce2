"""Encoder setup on the stream page: one section per encoder, in its own words, secrets only after an
audited reveal, and a QR code of the full ingest URL that a real decoder reads back."""

from __future__ import annotations

import re
import subprocess
import tempfile
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from streams.encoders import ffmpeg_command, profile_for
from streams.models import AuditEntry

pytestmark = pytest.mark.django_db

CHROMIUM = "/usr/bin/chromium"
RTMPS = "rtmps://live.fastpix.com:443/live"


def _page(client: Client, stream_id: str) -> str:
    return client.get(f"/streams/{stream_id}/").content.decode()


def _reveal(client: Client, stream_id: str, secret: str = "stream_key", htmx: bool = True) -> str:
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(f"/streams/{stream_id}/reveal/", {"secret": secret}, **headers)
    assert response.status_code == 200
    return response.content.decode()


def _field(html: str, field_id: str) -> str:
    """The text of one copyable field, as the copy button copies it."""
    match = re.search(rf'<code id="{field_id}">(.*?)</code>', html, re.S)
    assert match, f"no field {field_id}"
    return unescape(match.group(1)).strip()


def _section(html: str, key: str) -> str:
    start = html.index(f'id="encoder-{key}"')
    end = html.find('<section class="encoder-panel"', start + 1)
    return html[start : end if end != -1 else len(html)]


def test_every_encoder_has_its_section_with_its_own_words(producer_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream()
    html = _page(producer_client, stream["streamId"])
    obs, vmix, ffmpeg, mobile, srt = (_section(html, k) for k in ("obs", "vmix", "ffmpeg", "mobile", "srt"))
    assert "<dt>Service</dt>" in obs
    assert "Custom…" in obs
    assert "<dt>Server</dt>" in obs
    assert "<dt>Stream Key</dt>" in obs
    assert _field(html, "obs-server") == RTMPS
    assert "<dt>Destination</dt>" in vmix
    assert "Custom RTMP Server" in vmix
    assert "<dt>URL</dt>" in vmix
    assert "<dt>Stream Name or Key</dt>" in vmix
    assert _field(html, "vmix-url") == RTMPS
    assert "<dt>Command</dt>" in ffmpeg
    assert "<dt>Server URL</dt>" in mobile
    assert "<dt>Stream key</dt>" in mobile
    assert _field(html, "mobile-server") == RTMPS
    assert _field(html, "srt-server") == f"srt://live.fastpix.com:778?streamid={stream['streamId']}"
    assert _field(html, "srt-streamid") == stream["streamId"]
    assert "<dt>Passphrase</dt>" in srt
    # Every field there is to paste has its own copy button.
    for field_id in re.findall(r'<code id="([a-z-]+)">', html):
        assert f'data-copy="{field_id}"' in html


def test_the_recommended_settings_are_fastpix_profiles_and_the_stream_s_is_marked(
    producer_client: Client, emulator: Any
) -> None:
    stream = emulator.create_stream(maxResolution="720p")
    html = " ".join(_page(producer_client, stream["streamId"]).split())
    assert "Recommended encoder settings" in html
    for row in ("1080p", "5000 kbps"), ("720p", "3000 kbps"), ("540p", "2000 kbps"), ("360p", "1000 kbps"):
        assert all(cell in html for cell in row)
    assert '<tr class="current"><th scope="row">720p <span class="muted">(this stream)</span>' in html
    assert "keyframe every 2 seconds" in html


def test_the_ffmpeg_line_is_complete_and_has_the_key_only_after_the_reveal(
    producer_client: Client, emulator: Any
) -> None:
    stream = emulator.create_stream()
    before = _field(_page(producer_client, stream["streamId"]), "ffmpeg-command")
    assert stream["streamKey"] not in before
    assert before.endswith(f'-f flv "{RTMPS}/$STREAM_KEY"')

    after = _field(_reveal(producer_client, stream["streamId"]), "ffmpeg-command")
    words = after.split()
    assert words[:4] == ["ffmpeg", "-re", "-i", "input.mp4"]  # the input placeholder
    assert words[words.index("-c:v") + 1] == "libx264"
    assert words[words.index("-g") + 1] == "60"  # a keyframe every 2 s at 30 fps
    assert words[words.index("-b:v") + 1] == "5000k"  # FastPix's 1080p profile
    assert words[words.index("-c:a") + 1] == "aac"
    assert words[-3:] == ["-f", "flv", f'"{RTMPS}/{stream["streamKey"]}"']
    assert after == ffmpeg_command(f"{RTMPS}/{stream['streamKey']}", profile_for("1080p"))


def test_a_480p_stream_is_sent_fastpix_s_smallest_profile_that_covers_it() -> None:
    assert (profile_for("480p").height, profile_for("480p").kbps) == (540, 2000)
    assert profile_for("1080p").kbps == 5000
    assert profile_for("weird").height == 1080


def test_the_key_fields_are_masked_until_the_reveal_and_then_filled(
    producer_client: Client, emulator: Any
) -> None:
    stream = emulator.create_stream()
    html = _page(producer_client, stream["streamId"])
    assert stream["streamKey"] not in html
    assert stream["srtSecret"] not in html
    for field_id in ("obs-key", "vmix-key", "mobile-key", "mobile-url", "srt-passphrase", "srt-full"):
        assert f'id="{field_id}"' not in html
    assert "Reveal the stream key above to fill this in." in html

    revealed = _reveal(producer_client, stream["streamId"])
    key = stream["streamKey"]
    assert (
        _field(revealed, "obs-key") == _field(revealed, "vmix-key") == _field(revealed, "mobile-key") == key
    )
    assert _field(revealed, "mobile-url") == f"{RTMPS}/{key}"
    assert stream["srtSecret"] not in revealed  # only the secret asked for

    srt = _reveal(producer_client, stream["streamId"], "srt_secret")
    assert _field(srt, "srt-passphrase") == stream["srtSecret"]
    assert _field(srt, "srt-full") == (
        f"srt://live.fastpix.com:778?streamid={stream['streamId']}&passphrase={stream['srtSecret']}"
    )
    assert key not in srt


def test_the_qr_code_is_absent_before_a_reveal_and_for_the_other_secret(
    producer_client: Client, emulator: Any
) -> None:
    stream = emulator.create_stream()
    assert "<svg" not in _page(producer_client, stream["streamId"])
    assert "<svg" not in _reveal(producer_client, stream["streamId"], "srt_secret")


def test_the_poll_never_carries_the_key_or_the_qr_code(producer_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="active", views=3)
    _reveal(producer_client, stream["streamId"])
    poll = producer_client.get(f"/streams/{stream['streamId']}/live/").content.decode()
    assert stream["streamKey"] not in poll
    assert "<svg" not in poll


def _decode_qr(svg: str) -> str:
    """Draw the response's SVG as a browser draws it (Chromium, headless) and read it back with zbarimg."""
    with tempfile.TemporaryDirectory() as folder:
        page, picture = Path(folder, "qr.html"), Path(folder, "qr.png")
        page.write_text(
            f'<!doctype html><meta charset="utf-8"><body style="margin:20px;background:#fff">{svg}'
        )
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={folder}/profile", f"--screenshot={picture}", "--window-size=400,400",
             page.as_uri()],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        decoded = subprocess.run(
            ["zbarimg", "--raw", "-q", str(picture)], check=True, capture_output=True, text=True, timeout=30
        )
    return decoded.stdout.strip()


@pytest.mark.e2e  # draws the QR code in Chromium and reads it with zbarimg: `make test` installs both
def test_after_a_reveal_the_qr_code_decodes_to_exactly_the_ingest_url(
    producer_client: Client, emulator: Any, settings: Any
) -> None:
    settings.QR_VISIBLE_SECONDS = 45
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"})
    html = _reveal(producer_client, stream["streamId"])
    figure = re.search(
        r'<figure class="qr" id="ingest-qr" data-qr-seconds="45"[^>]*>(.*?)</figure>', html, re.S
    )
    assert figure, "no QR code after the reveal"
    svg = re.search(r"<svg.*?</svg>", figure.group(1), re.S)
    assert svg
    assert 'role="img"' in svg.group(0)
    assert _decode_qr(svg.group(0)) == f"{RTMPS}/{stream['streamKey']}" == _field(html, "mobile-url")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome, entry.stream_name) == ("reveal", "done", "Main stage")
    assert stream["streamKey"] not in entry.message


def test_without_htmx_the_reveal_page_shows_the_qr_code_and_says_it_stays_until_reload(
    producer_client: Client, emulator: Any
) -> None:
    stream = emulator.create_stream()
    html = _reveal(producer_client, stream["streamId"], htmx=False)
    assert 'id="ingest-qr"' in html
    assert "without JavaScript, when you reload the page" in html


@pytest.mark.parametrize("role", ["admin", "producer"])
def test_roles_that_may_reveal_see_the_encoder_tabs(
    client: Client, make_user: Any, emulator: Any, role: str
) -> None:
    client.force_login(make_user(role))
    stream = emulator.create_stream()
    assert 'id="encoder-setup"' in _page(client, stream["streamId"])


def test_a_reviewer_sees_no_encoder_tab(reviewer_client: Client, emulator: Any) -> None:
    stream = emulator.create_stream()
    html = _page(reviewer_client, stream["streamId"])
    assert 'id="encoder-setup"' not in html
    assert 'role="tab"' not in html
    assert "ffmpeg" not in html
    assert "Your role cannot see ingest credentials" in html
