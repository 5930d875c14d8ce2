"""Every mirror row's `search_text` folded as `mirror.fold` does since this migration: one Unicode form
(NFKC) and runs of whitespace as one space, besides lowercase. Rows written before held the plain lowercase,
where a name composed of e and an accent, or with a non-breaking space, could not be found as typed."""

import unicodedata

from django.db import migrations

BATCH = 500


def _fold(text: str) -> str:
    # A copy of streams.workspace.mirror.fold as it was when this migration was written.
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def fold_search_text(apps, schema_editor):  # type: ignore[no-untyped-def]
    MirroredStream = apps.get_model("streams", "MirroredStream")
    changed = []
    for row in MirroredStream.objects.only("stream_id", "name", "metadata", "search_text").iterator(BATCH):
        values = row.metadata.values() if isinstance(row.metadata, dict) else ()
        text = "\n".join(_fold(str(part)) for part in [row.name, row.stream_id, *values])
        if text != row.search_text:
            row.search_text = text
            changed.append(row)
    MirroredStream.objects.bulk_update(changed, ["search_text"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("streams", "0009_stream_revision"),
    ]

    operations = [
        migrations.RunPython(fold_search_text, migrations.RunPython.noop, elidable=True),
    ]
