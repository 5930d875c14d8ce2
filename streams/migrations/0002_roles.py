"""Create the three role groups with their permissions (a frozen copy of streams/roles.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Stream admin": [
        "view_streams",
        "create_stream",
        "edit_stream",
        "enable_stream",
        "disable_stream",
        "finish_stream",
        "delete_stream",
        "reveal_secrets",
        "view_recordings",
        "view_audit_log",
    ],
    "Producer": [
        "view_streams",
        "enable_stream",
        "disable_stream",
        "finish_stream",
        "reveal_secrets",
        "view_recordings",
    ],
    "Reviewer": ["view_streams", "view_recordings"],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create them now so groups can hold them.
    app_config = apps.get_app_config("streams")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = Permission.objects.filter(content_type__app_label="streams", codename__in=codenames)
        assert permissions.count() == len(codenames), f"missing permissions for {group_name}"
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("streams", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
