"""Only what FastPix does not keep for us: the console's permissions, the audit log, and the state that
must hold across processes and restarts (one stream per create submission, one mutation per click, when a
broadcast was first seen live). Each rule is a database constraint, never a cache entry."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Console(models.Model):
    """Holds the console's custom permissions; it has no table (FastPix keeps the streams)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_streams", "View streams and viewer counts"),
            ("create_stream", "Create streams"),
            ("edit_stream", "Edit stream metadata and reconnect window"),
            ("enable_stream", "Enable streams"),
            ("disable_stream", "Disable streams"),
            ("finish_stream", "Finish live streams"),
            ("delete_stream", "Delete streams"),
            ("reveal_secrets", "Reveal stream keys and SRT secrets"),
            ("view_recordings", "View and play recordings"),
            ("view_audit_log", "View the audit log"),
            ("inspect_events", "Inspect FastPix events and re-apply one"),
        ]

    def __str__(self) -> str:
        return "FastPix console"


class AuditEntry(models.Model):
    """One attempted action on a stream, written whatever FastPix answered. Never edited or deleted."""

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        EDIT = "edit", "Edit"
        ENABLE = "enable", "Enable"
        DISABLE = "disable", "Disable"
        FINISH = "finish", "Finish"
        DELETE = "delete", "Delete"
        REVEAL = "reveal", "Reveal secret"

    class Outcome(models.TextChoices):
        DONE = "done", "Done"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown"
        DUPLICATE = "duplicate", "Duplicate, not sent"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=16, choices=Action.choices)
    stream_id = models.CharField(max_length=64, db_index=True, blank=True)
    stream_name = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    message = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["action", "-created_at"]),
            models.Index(fields=["username", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.stream_id} → {self.outcome}"


class ActionAttempt(models.Model):
    """One lifecycle action (enable, disable, finish, delete) on one stream, from the click to the answer.

    An unfinished row is the in-flight lock: the partial unique constraint admits one per (stream, action),
    so a second click, tab, session or process that tries the same action meanwhile cannot send a second
    mutation; it waits for this row's result instead. The row is finished when the call ends, whatever
    happened, so a failed attempt never blocks the next one. `expires_at` frees the lock of a process that
    died mid-call; it lies beyond the longest the call can take (see streams/views/actions.py).
    """

    stream_id = models.CharField(max_length=32)
    action = models.CharField(max_length=16)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, blank=True)  # AuditEntry.Outcome once finished
    level = models.PositiveSmallIntegerField(default=0)  # django.contrib.messages level of `text`
    text = models.TextField(blank=True)  # what the user was told

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stream_id", "action"],
                condition=Q(finished_at__isnull=True),
                name="one_action_in_flight_per_stream",
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | ~Q(outcome=""), name="finished_action_has_outcome"
            ),
        ]
        indexes = [models.Index(fields=["stream_id", "action", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.stream_id} → {self.outcome or 'in flight'}"


class CreateSubmission(models.Model):
    """One submission of the create form, keyed by its one-time id: the stream it made, or why not.

    The primary key makes "50 identical submissions make one stream" true across processes. A submission
    whose outcome is not known (FastPix answered 5xx or timed out) keeps that state until a later look at
    FastPix's list finds the stream or shows it is not there.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Being created"
        CREATED = "created", "Created"
        NOT_CREATED = "not_created", "Not created"
        UNKNOWN = "unknown", "Not known yet"

    id = models.UUIDField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=255)
    submitted_at = models.DateTimeField()  # the first attempt: a stream it made is created after this
    attempt_started_at = models.DateTimeField()  # the current attempt: a pending one older than the lock died
    state = models.CharField(max_length=16, choices=State.choices)
    stream_id = models.CharField(max_length=32, blank=True)
    text = models.TextField(blank=True)  # what the user was told

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="created") | ~Q(stream_id=""), name="created_submission_names_its_stream"
            ),
        ]

    def __str__(self) -> str:
        return f"create {self.name} → {self.state}"


class LiveSighting(models.Model):
    """When the console first saw a broadcast live. FastPix does not say when a broadcast began, so the
    confirmations say "live for at least …" from this floor; the row goes when the broadcast ends."""

    stream_id = models.CharField(max_length=32, primary_key=True)
    since = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.stream_id} live since {self.since:%Y-%m-%d %H:%M}"


class AccessVersion(models.Model):
    """One row whose number changes, in the same transaction, with any change to users, groups or their
    permissions (streams/auth.py). Every process reads it once per request, so a signed-in user and
    their permission set may be kept in a per-process cache under it, and a changed role still applies
    on the very next request everywhere."""

    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="access_version_is_one_row")]

    def __str__(self) -> str:
        return f"access version {self.version}"


# ------------------------------------------------------------------------------------------------------------
# The console's own memory of the workspace (streams/workspace/): what FastPix told it, by webhook or by a
# read, kept so that lists, searches and polls never have to ask FastPix again.


class MirroredStream(models.Model):
    """The newest the console knows of one stream. Never a secret: no stream key, no SRT secret.

    `observed_at` is when FastPix stated what the row holds (an event's createdAt, or the moment a read
    was made). An observation older than it is out of order and changes nothing, so a late webhook or a
    slow reconcile can never put an older state back. A deleted stream keeps its row as a tombstone
    (`deleted_at`) for the same reason: a late "updated" must not bring it back.
    """

    stream_id = models.CharField(max_length=32, primary_key=True)
    name = models.CharField(max_length=300)  # policy.display_name: the metadata name, else the id
    # The name, the id and the metadata values, folded (mirror.fold): what search matches.
    search_text = models.TextField()
    status = models.CharField(max_length=16)
    created_at = models.DateTimeField(null=True)  # FastPix's createdAt
    metadata = models.JSONField(default=dict)
    settings = models.JSONField(default=dict)  # mirror.SETTINGS_FIELDS, playback ids (no secrets)
    media_ids = models.JSONField(default=list)  # the recordings, oldest first
    live_since = models.DateTimeField(null=True, blank=True)  # the current broadcast's start, as first seen
    last_live_at = models.DateTimeField(null=True, blank=True)  # when it was last seen live
    disconnected_at = models.DateTimeField(null=True, blank=True)  # the encoder left; the window runs
    viewers = models.IntegerField(null=True, blank=True)  # the newest sample while live
    viewers_at = models.DateTimeField(null=True, blank=True)
    observed_at = models.DateTimeField()
    synced_at = models.DateTimeField()  # when FastPix last confirmed the row (an event or a read)
    last_event_id = models.CharField(max_length=100, blank=True)
    last_event_type = models.CharField(max_length=100, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The workspace version of this row's newest change (the mirror, its samples or its lights): a stream's
    # page polls on it, so it renders again only when something about its own stream changed.
    revision = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["deleted_at", "-created_at"], name="mirror_newest"),
            models.Index(fields=["deleted_at", "status"], name="mirror_status"),
            models.Index(fields=["deleted_at", "name"], name="mirror_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class ViewerSample(models.Model):
    """One viewer count of a live stream, taken by the worker's sampler once per VIEWER_COUNT_TTL."""

    stream_id = models.CharField(max_length=32)
    at = models.DateTimeField()
    views = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["stream_id", "at"], name="sample_stream_time")]

    def __str__(self) -> str:
        return f"{self.stream_id} {self.views} at {self.at:%H:%M:%S}"


class ReceivedEvent(models.Model):
    """Every webhook delivery, whatever became of it: the event inspector's rows. The payload is kept with
    every secret redacted (streams/workspace/intake.py); a delivery that failed its signature check keeps
    no payload at all, only what it claimed to be."""

    class Signature(models.TextChoices):
        VALID = "valid", "Valid"
        MISSING = "missing", "Missing"
        WRONG = "wrong", "Wrong"
        NOT_CHECKED = "not_checked", "Not checked"

    class Verdict(models.TextChoices):
        APPLIED = "applied", "Applied"
        UNCHANGED = "unchanged", "Applied, nothing changed"
        DUPLICATE = "duplicate", "Duplicate, ignored"
        OUT_OF_ORDER = "out_of_order", "Older than what the console knows, ignored"
        UNKNOWN_TYPE = "unknown_type", "Unknown type, kept"
        REJECTED = "rejected", "Rejected: bad signature"
        MALFORMED = "malformed", "Malformed"
        TOO_LARGE = "too_large", "Too large"

    received_at = models.DateTimeField(db_index=True)
    event_id = models.CharField(max_length=100, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    stream_id = models.CharField(max_length=64, blank=True)  # the stream it concerns (media: its streamId)
    occurred_at = models.DateTimeField(null=True, blank=True)  # the event's createdAt
    signature = models.CharField(max_length=16, choices=Signature.choices)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    size = models.PositiveIntegerField(default=0)  # bytes received
    payload = models.JSONField(null=True, blank=True)  # redacted
    changes = models.JSONField(null=True, blank=True)  # {field: [before, after]} on the mirror
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # The first genuine delivery of an event id; repeats are kept as rows of their own (duplicate).
            models.UniqueConstraint(
                fields=["event_id"],
                condition=Q(signature="valid") & ~Q(event_id="") & ~Q(verdict="duplicate"),
                name="one_genuine_delivery_per_event",
            ),
        ]
        indexes = [models.Index(fields=["stream_id", "occurred_at"], name="event_stream_time")]

    def __str__(self) -> str:
        return f"{self.event_type or '?'} {self.event_id or '-'} → {self.verdict}"


class WorkspaceVersion(models.Model):
    """One row whose number changes in the same transaction as any change to the mirror or the samples.
    A poll that carries the number it last saw and finds it unchanged is answered without rendering."""

    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="workspace_version_is_one_row")]

    def __str__(self) -> str:
        return f"workspace version {self.version}"


class WorkerLease(models.Model):
    """Which console_worker works now. Any number may run; the one holding an unexpired lease works, the
    others wait to take it over (streams/workspace/lease.py)."""

    name = models.CharField(max_length=32, primary_key=True)
    holder = models.CharField(max_length=200)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%H:%M:%S}"


class WorkerRun(models.Model):
    """The last run of each of the worker's jobs (reconcile, sample, refresh, thin): /healthz and the
    pages read their ages to say how fresh the mirror is."""

    job = models.CharField(max_length=32, primary_key=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok_at = models.DateTimeField(null=True, blank=True)  # the last run that succeeded
    error = models.TextField(blank=True)  # why the last run failed, empty when it succeeded
    detail = models.JSONField(default=dict)  # what it did: streams seen, calls made, …

    def __str__(self) -> str:
        return f"{self.job} ok at {self.ok_at}"


# ------------------------------------------------------------------------------------------------------------
# Go-live confidence (readiness lights, drop alerts and their notifications).


class Readiness(models.Model):
    """A stream's three readiness lights as the worker last judged them, and when each last changed:
    encoder connected, live, and playable (its public HLS manifest fetched and holding segments)."""

    class Light(models.TextChoices):
        ON = "on", "On"
        OFF = "off", "Off"
        UNKNOWN = "unknown", "Unknown"
        PRIVATE = "private", "Needs a signed token"

    stream_id = models.CharField(max_length=32, primary_key=True)
    encoder = models.CharField(max_length=16, choices=Light.choices, default=Light.UNKNOWN)
    encoder_changed_at = models.DateTimeField(null=True, blank=True)
    live = models.CharField(max_length=16, choices=Light.choices, default=Light.UNKNOWN)
    live_changed_at = models.DateTimeField(null=True, blank=True)
    playable = models.CharField(max_length=16, choices=Light.choices, default=Light.UNKNOWN)
    playable_changed_at = models.DateTimeField(null=True, blank=True)
    playable_reason = models.TextField(blank=True)  # why not green: "no segments yet", "timed out", …
    probed_at = models.DateTimeField(null=True, blank=True)  # the last manifest fetch

    def __str__(self) -> str:
        return f"{self.stream_id}: encoder {self.encoder}, live {self.live}, playable {self.playable}"


class Incident(models.Model):
    """Something a producer must hear about, once: a drop, a stream that did not reconnect, a recording
    that failed, a broadcast far longer than planned. `key` makes "once per incident" a constraint."""

    class Kind(models.TextChoices):
        DROP = "drop", "Dropped"
        NOT_RECONNECTED = "not_reconnected", "Did not reconnect"
        RECORDING_FAILED = "recording_failed", "Recording failed"
        OVERRUN = "overrun", "Live far longer than planned"

    key = models.CharField(max_length=200, unique=True)  # kind + stream + the broadcast or media it is about
    kind = models.CharField(max_length=32, choices=Kind.choices)
    stream_id = models.CharField(max_length=32, db_index=True)
    stream_name = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)  # a drop closes when the encoder returns
    detail = models.JSONField(default=dict)  # what the notification says; never a secret

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.stream_id} at {self.opened_at:%H:%M:%S}"


class Notification(models.Model):
    """One incident told through one channel (email or a Slack-compatible webhook): sent at least once,
    retried with back-off while the target fails, every attempt's result kept for the event inspector."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, gave up"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "channel"], name="one_notification_per_channel")
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="notification_due")]

    def __str__(self) -> str:
        return f"{self.channel} for {self.incident_id}: {self.state}"
