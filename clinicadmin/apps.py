from django.apps import AppConfig
from django.contrib.admin import apps as django_admin


class ClinicAdminSiteConfig(django_admin.AdminConfig):
    """Django's admin with the clinics' site as `admin.site`, so that Django's own models
    (users, groups) register on it as they always have."""

    default = False
    default_site = "clinicadmin.sites.ClinicAdminSite"


class ClinicAdminConfig(AppConfig):
    """The clinic's configuration pages (clinicadmin.admin); the app owns no models."""

    default = True
    name = "clinicadmin"
