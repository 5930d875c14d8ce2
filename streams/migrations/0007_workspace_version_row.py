"""The one WorkspaceVersion row exists from the start, so every bump is a single UPDATE."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def create_row(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("streams", "WorkspaceVersion").objects.get_or_create(id=1, defaults={"version": 0})


class Migration(migrations.Migration):
    dependencies = [("streams", "0006_inspect_events")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
