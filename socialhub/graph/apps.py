from django.apps import AppConfig


class GraphConfig(AppConfig):
    name = "socialhub.graph"
    label = "graph"
    verbose_name = "Graph API"
    default_auto_field = "django.db.models.BigAutoField"
