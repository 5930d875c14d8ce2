"""Forms for the console. Bounds come from the FastPix contract, checked before any call is made:
metadata ≤ 10 entries with keys and values ≤ 255 characters (contract §7, §9 A12), reconnect window
60–1800 s (§9 A21)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, cast

import django.forms
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates
from django.http import QueryDict

METADATA_MAX_ENTRIES = 10
METADATA_MAX_LENGTH = 255
RECONNECT_MIN, RECONNECT_MAX = 60, 1800

RECONNECT_HINT = (
    "How long FastPix keeps the broadcast open when the encoder drops, waiting for it to come back "
    "(60–1800 seconds). Within the window a reconnect continues the same recording; after it, the "
    "broadcast ends."
)


class ConsoleFormRenderer(DjangoTemplates):
    """Django's form templates, with the console's field template for `{{ field.as_field_group }}`.

    templates/streams/_field.html gives the hint and the errors the ids Django's widgets name in their
    aria-describedby (`<id>_helptext`, `<id>_error`), so every description an input points at exists.
    """

    field_template_name = "streams/_field.html"

    @cached_property
    def engine(self) -> Any:
        return self.backend(
            {
                "APP_DIRS": True,
                "DIRS": [
                    Path(django.forms.__file__).parent / "templates",
                    Path(settings.BASE_DIR) / "templates",
                ],
                "NAME": "consoleforms",
                "OPTIONS": {},
            }
        )


RENDERER = ConsoleFormRenderer()


class CharactersField(forms.CharField):
    """A CharField whose max_length is checked here only. FastPix counts characters (code points), as
    Python's len() does; an HTML maxlength counts UTF-16 code units, so the browser would stop at 127
    emoji and silently cut a paste FastPix would take. Too long is reported next to the field instead."""

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class MetadataRowForm(forms.Form):
    default_renderer = RENDERER
    # Keys are kept as typed: " room" is a key FastPix may hold, distinct from "room" (the spec puts no
    # rule on keys). A key of only spaces counts as no key.
    key = CharactersField(required=False, max_length=METADATA_MAX_LENGTH, strip=False, label="Key")
    value = CharactersField(required=False, max_length=METADATA_MAX_LENGTH, strip=False, label="Value")


class BaseMetadataFormSet(forms.BaseFormSet):
    """Key/value rows. Blank rows are ignored; a value without a key, or a repeated key, is an error."""

    reserved_keys: frozenset[str] = frozenset()

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        if index is not None:  # each row's labels say which row it is: "Key 3", "Value 3"
            form.fields["key"].label = f"Key {index + 1}"
            form.fields["value"].label = f"Value {index + 1}"

    @property
    def max_rows(self) -> int:
        """How many rows fit: FastPix keeps at most 10 entries, and a reserved key (the name) is one."""
        return rows_allowed(self.reserved_keys)

    @property
    def can_add_row(self) -> bool:
        return self.total_form_count() < self.max_rows

    def clean(self) -> None:
        if any(form.errors for form in self.forms):
            return
        seen: set[str] = set()
        for form in self.forms:
            if form.cleaned_data.get("DELETE"):
                continue
            key = form.cleaned_data.get("key", "")
            value = form.cleaned_data.get("value", "")
            if not key.strip() and not value:
                continue
            if not key.strip():
                form.add_error("key", "Give this value a key, or clear the row.")
            elif key in seen:
                form.add_error("key", f"The key “{key}” is used twice. Keys must be unique.")
            elif key in self.reserved_keys:
                form.add_error("key", f"“{key}” is set by the Name field above.")
            seen.add(key)
        if len(seen) + len(self.reserved_keys) > METADATA_MAX_ENTRIES:
            raise ValidationError(
                f"FastPix keeps at most {METADATA_MAX_ENTRIES} metadata entries"
                + (" (the name counts as one)" if self.reserved_keys else "")
                + f"; this has {len(seen) + len(self.reserved_keys)}."
            )

    def metadata(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for form in self.forms:
            if form.cleaned_data.get("DELETE"):
                continue
            key = form.cleaned_data.get("key", "")
            if key.strip():
                result[key] = form.cleaned_data.get("value", "")
        return result


MetadataFormSet = forms.formset_factory(
    MetadataRowForm,
    formset=BaseMetadataFormSet,
    extra=0,
    can_delete=True,
    max_num=50,
    absolute_max=50,
    renderer=RENDERER,
)


def rows_allowed(reserved_keys: frozenset[str]) -> int:
    return METADATA_MAX_ENTRIES - len(reserved_keys)


def metadata_formset(
    data: QueryDict | None = None,
    *,
    initial: Mapping[str, str] | None = None,
    add_row: bool = False,
    reserved_keys: frozenset[str] = frozenset(),
) -> BaseMetadataFormSet:
    """Rows for a metadata map. `add_row` re-displays the posted rows plus one blank one, as long as
    FastPix could keep them all (10 entries, the reserved name counting as one)."""
    rows = [{"key": key, "value": value} for key, value in (initial or {}).items()]
    limit = rows_allowed(reserved_keys)
    if data is not None and add_row:
        data = data.copy()
        total = data.get("meta-TOTAL_FORMS", "0")
        if total.isdecimal() and int(total) < limit:  # else the formset reports tampering, or it is full
            data["meta-TOTAL_FORMS"] = str(int(total) + 1)
    formset = cast(BaseMetadataFormSet, MetadataFormSet(data, initial=rows, prefix="meta"))
    if data is None:
        # One blank row to type into, or more if the map is empty; none past the limit.
        formset.extra = max(0, min(1 if rows else 2, limit - len(rows)))
    formset.reserved_keys = reserved_keys
    return formset


def fingerprint(metadata: Mapping[str, str], reconnect_window: int) -> str:
    """A short digest of what the edit form shows, to notice a change made upstream meanwhile."""
    payload = json.dumps({"m": dict(sorted(metadata.items())), "r": reconnect_window}, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


class StreamSettingsForm(forms.Form):
    default_renderer = RENDERER
    reconnect_window = forms.IntegerField(
        label="Reconnect window (seconds)",
        min_value=RECONNECT_MIN,
        max_value=RECONNECT_MAX,
        help_text=RECONNECT_HINT,
    )
    original = forms.CharField(widget=forms.HiddenInput, required=False)


class CreateStreamForm(forms.Form):
    default_renderer = RENDERER
    name = CharactersField(
        label="Name",
        max_length=METADATA_MAX_LENGTH,
        help_text="Shown in the console (stored as the livestream_name metadata key).",
        error_messages={
            "required": "Give the stream a name: it is how you and your team will find it in the list."
        },
    )
    max_resolution = forms.ChoiceField(
        label="Maximum resolution",
        choices=[("1080p", "1080p"), ("720p", "720p"), ("480p", "480p")],
        initial="1080p",
    )
    reconnect_window = forms.IntegerField(
        label="Reconnect window (seconds)",
        min_value=RECONNECT_MIN,
        max_value=RECONNECT_MAX,
        initial=RECONNECT_MIN,
        help_text=RECONNECT_HINT,
    )
    access_policy = forms.ChoiceField(
        label="Live playback",
        choices=[("public", "Public: anyone with the link"), ("private", "Private: signed URLs only")],
        initial="public",
    )
    media_policy = forms.ChoiceField(
        label="Recordings",
        choices=[("public", "Public: anyone with the link"), ("private", "Private: signed URLs only")],
        initial="public",
    )
    enable_recording = forms.BooleanField(label="Record each broadcast", required=False, initial=True)
    enable_dvr_mode = forms.BooleanField(
        label="DVR: let viewers rewind the live broadcast", required=False, initial=False
    )
    submission = forms.UUIDField(widget=forms.HiddenInput)
