from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """`{{ revealed|get_item:field }}`: a dict lookup with a variable key."""
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None
