from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The patients' pages: views, forms and templates only, no models of their own."""

    name = "portal"
    verbose_name = "Patient pages"
