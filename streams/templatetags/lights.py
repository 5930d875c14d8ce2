"""`{% readiness_lights readiness status as lights %}`: a stream's three readiness lights, as
templates/streams/_lights.html shows them (streams/workspace/readiness.py)."""

from __future__ import annotations

from django import template

from streams.models import Readiness
from streams.workspace.readiness import Shown, lights

register = template.Library()


@register.simple_tag
def readiness_lights(readiness: Readiness | None, status: str | None) -> list[Shown]:
    return lights(readiness, status or "")
