from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict, key: str) -> object:
    return mapping.get(key, key)


@register.filter
def field_label(form, name: str) -> str:
    """A form field's label, for listing its errors by name."""
    field = form.fields.get(name)
    return str(field.label or name.replace("_", " ").capitalize()) if field else name
