"""Placeholder: filled in by its owner."""

from django.http import HttpResponse


def receive(request):  # noqa: ANN001, ANN201
    return HttpResponse(status=404)
