"""The insights pages and their data (`views`), the client report and its schedules (`report_views`), and the
agency's view across its workspaces (`agency_views`)."""

from . import agency_views, report_views, views

app_name = "analytics"

urlpatterns = [*views.urlpatterns, *report_views.urlpatterns, *agency_views.urlpatterns]
