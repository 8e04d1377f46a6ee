from django.urls import path

from insights import api

urlpatterns = [
    path("statistics/", api.StatisticsView.as_view(), name="statistics"),
]
