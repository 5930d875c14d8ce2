"""Only what FastPix does not keep for us: the console's permissions and the audit log."""

from django.conf import settings
from django.db import models


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
