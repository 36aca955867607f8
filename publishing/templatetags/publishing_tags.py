from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict, key: str) -> object:
    return mapping.get(key, key)
