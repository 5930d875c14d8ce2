"""Demo workspace: a lively, believable set of streams, recordings and clips.

Deterministic for a given `random.Random`: the same rng seed gives the same streams, ids, metadata,
statuses and relative timestamps (timestamps are offsets back from the state's clock).
"""

from __future__ import annotations

import random
from datetime import timedelta

from emulator.state import State, StreamStatus
from emulator.validation import CreatePlayback, CreateSimulcast

NAMES = (
    "Main stage",
    "Keynote — Hall B",
    "Workshop: Intro to HLS",
    "Product launch 2025",
    "Company town hall",
    "Morning newsroom",
    "Esports finals — Day 2",
    "Community Q&A",
    "Backstage camera",
    "Cooking with Priya",
    "Late-night jazz session",
    "Charity marathon",
    "Developer office hours",
    "Quarterly earnings call",
    "Sunrise yoga",
    "Campus tour",
    "Breakout room 3",
    "Press conference",
    "Friday gaming night",
    "Panel: The future of video",
    "Studio A — rehearsal",
    "Sales kickoff",
    "Customer webinar",
    "Hackathon demos",
    "Weekly standup",
    "Concert — Riverside stage",
    "Live auction",
    "Science fair finals",
    "City council meeting",
    "Football: U18 league",
)
EVENTS = ("DevConf 2025", "Spring Summit", "Global All-Hands", "Winter Festival", "Launch Week")
REGIONS = ("eu-west", "us-east", "ap-south", "us-west")
PRODUCERS = ("Ana Ruiz", "Kenji Sato", "Maya Patel", "Tom Becker", "Lea Martin", "Omar Haddad")
CATEGORIES = ("conference", "news", "music", "sports", "education", "internal")
LANGUAGES = ("en", "de", "fr", "es", "ja")
SIMULCAST_TARGETS = (
    "rtmp://a.rtmp.youtube.com/live2/",
    "rtmp://live.twitch.tv/app/",
    "rtmps://live-api-s.facebook.com:443/rtmp/",
)


def _statuses(count: int, rng: random.Random, live: int | None = None) -> list[StreamStatus]:
    """About 1 in 6 active, 1 in 12 preparing, 1 in 8 disabled; the rest idle. With `live`: exactly that
    many active and none preparing (a scale workspace: "10,000 streams, 500 live")."""
    active = max(1, round(count / 6)) if live is None else min(live, count)
    preparing = round(count / 12) if live is None else 0
    disabled = min(round(count / 8), count - active - preparing)
    idle = max(0, count - active - preparing - disabled)
    counts: dict[StreamStatus, int] = {
        "active": active,
        "preparing": preparing,
        "disabled": disabled,
        "idle": idle,
    }
    statuses = [status for status, n in counts.items() for _ in range(n)]
    statuses = statuses[:count]
    rng.shuffle(statuses)
    return statuses


def _metadata(index: int, rng: random.Random) -> dict[str, str]:
    name = NAMES[index % len(NAMES)]
    if index >= len(NAMES):
        name = f"{name} #{index // len(NAMES) + 1}"
    metadata = {"livestream_name": name}
    extras: dict[str, str] = {
        "event": rng.choice(EVENTS),
        "region": rng.choice(REGIONS),
        "producer": rng.choice(PRODUCERS),
        "category": rng.choice(CATEGORIES),
        "language": rng.choice(LANGUAGES),
    }
    for key in rng.sample(sorted(extras), k=rng.randint(1, 4)):
        metadata[key] = extras[key]
    return metadata


def seed_workspace(state: State, count: int, rng: random.Random, *, live: int | None = None) -> None:
    if count <= 0:
        return
    now = state.now()
    statuses = _statuses(count, rng, live)
    # A few trial streams, never live ones (a live trial stream is cut off after five minutes).
    not_live = [i for i, status in enumerate(statuses) if status in ("idle", "disabled")]
    trials = set(rng.sample(not_live, k=min(len(not_live), max(1, count // 15))))
    # Streams with past recordings; the first of them records privately (mediaPolicy private).
    candidates = [i for i in range(count) if i not in trials]
    recorded = rng.sample(candidates, k=min(len(candidates), max(3, round(count * 0.4))))
    # Spread creation over the last 30 days.
    ages = sorted((rng.uniform(0.2, 30 * 24) for _ in range(count)), reverse=True)
    ids: list[str] = []
    for index, status in enumerate(statuses):
        trial = index in trials
        media_policy = "private" if recorded[:1] == [index] or rng.random() < 0.1 else "public"
        created = state.add_stream(
            status=status,
            views=rng.randint(12, 2400) if status == "active" else 0,
            live_seconds=rng.uniform(120, 3 * 3600) if status == "active" else 0.0,
            created_at=now - timedelta(hours=ages[index]),
            trial=trial,
            metadata=_metadata(index, rng),
            reconnect_window=rng.choice((60, 60, 60, 120, 300, 600)),
            max_resolution=rng.choice(("1080p", "1080p", "720p", "480p")),
            media_policy=media_policy,
            enable_recording=index in recorded or rng.random() > 0.15,
            enable_dvr_mode=rng.random() < 0.2,
            access_policy="private" if rng.random() < 0.1 else "public",
        )
        stream_id = created["streamId"]
        ids.append(stream_id)
        if rng.random() < 0.15:
            state.create_playback_id(stream_id, CreatePlayback("private", None))
        if status == "idle" and not trial and rng.random() < 0.2:
            target = rng.choice(SIMULCAST_TARGETS)
            state.create_simulcast(stream_id, CreateSimulcast(target, f"live_{rng.getrandbits(64):016x}", {}))
    for position, index in enumerate(recorded):
        for past in range(rng.randint(1, 3)):
            # Exactly one recording still processing and one that failed, for the demo's sake.
            media_status = {(1, 0): "Processing", (2, 0): "Failed"}.get((position, past), "Ready")
            state.add_media(
                ids[index],
                status=media_status,
                duration_seconds=rng.uniform(300, 4 * 3600),
                created_at=now - timedelta(hours=ages[index] * (past + 1) / 4),
            )
    # Live clips from the streams on air and a couple of recorded ones.
    on_air = [i for i, status in enumerate(statuses) if status == "active"]
    for index in (on_air[:3] + recorded[:2])[:4]:
        for _ in range(rng.randint(1, 4)):
            state.add_media(
                ids[index],
                kind="clip",
                status="Ready",
                duration_seconds=rng.uniform(10, 120),
                created_at=now - timedelta(minutes=rng.uniform(1, 600)),
            )
