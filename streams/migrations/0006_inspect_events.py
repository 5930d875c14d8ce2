"""The event inspector's permission, given to the Stream admin role (streams/roles.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import F

GROUP = "Stream admin"
CODENAME = "inspect_events"


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create this one now so the group can hold it.
    app_config = apps.get_app_config("streams")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="streams", codename=CODENAME)
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)
    # Signed-in users' permission sets are cached under the access version (streams/auth.py): a new one.
    AccessVersion = apps.get_model("streams", "AccessVersion")
    if not AccessVersion.objects.filter(id=1).update(version=F("version") + 1):
        AccessVersion.objects.get_or_create(id=1, defaults={"version": 1})


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="streams", codename=CODENAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("streams", "0005_workspace_memory"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="console",
            options={
                "default_permissions": (),
                "managed": False,
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
                    ("inspect_events", "Inspect FastPix events and re-apply one"),
                ],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
