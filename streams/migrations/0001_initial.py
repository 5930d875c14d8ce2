import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.CreateModel(
            name="Console",
            fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False))],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [
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
                ],
            },
        ),
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("username", models.CharField(max_length=150)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("create", "Create"),
                            ("edit", "Edit"),
                            ("enable", "Enable"),
                            ("disable", "Disable"),
                            ("finish", "Finish"),
                            ("delete", "Delete"),
                            ("reveal", "Reveal secret"),
                        ],
                        max_length=16,
                    ),
                ),
                ("stream_id", models.CharField(blank=True, db_index=True, max_length=64)),
                ("stream_name", models.CharField(blank=True, max_length=300)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("done", "Done"),
                            ("refused", "Refused"),
                            ("failed", "Failed"),
                            ("unknown", "Unknown"),
                        ],
                        max_length=16,
                    ),
                ),
                ("message", models.TextField(blank=True)),
                ("before", models.JSONField(blank=True, null=True)),
                ("after", models.JSONField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["action", "-created_at"], name="streams_aud_action_1c3f0e_idx"),
                    models.Index(fields=["username", "-created_at"], name="streams_aud_usernam_5b7a2d_idx"),
                ],
            },
        ),
    ]
