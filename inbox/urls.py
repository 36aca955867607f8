"""The inbox's pages: threads and presence (`views`), what people do to comments (`action_views`), rules
(`rule_views`). Meta's webhooks come in at `/webhooks/meta/` (`webhooks`, wired in the project's urls)."""

from . import action_views, rule_views, views

app_name = "inbox"

urlpatterns = [*views.urlpatterns, *action_views.urlpatterns, *rule_views.urlpatterns]
