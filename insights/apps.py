from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """The leaders' re-planning statistics: the figures (defined once in `figures`), the
    dashboard page, its CSV export and the API; no models of its own."""

    name = "insights"
    verbose_name = "Re-planning statistics"
