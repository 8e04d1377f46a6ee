from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/", include("planning.api.urls")),
    path("api/v1/", include("booking.api.urls")),
    path("api/v1/", include("insights.api_urls")),
    path("api/v1/", include("notifications.api")),
    path("api-auth/", include("rest_framework.urls")),
    path("statistikk/", include("insights.urls")),
    path("", include("portal.urls")),
]

handler404 = "config.handlers.page_not_found"
handler500 = "config.handlers.server_error"
