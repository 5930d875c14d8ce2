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
