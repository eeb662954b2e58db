from django.urls import path

from quality.api import views

urlpatterns = [
    path("integrations/dbt/", views.DbtImportView.as_view(), name="dbt-import"),
    path(
        "integrations/great-expectations/",
        views.GreatExpectationsView.as_view(),
        name="great-expectations-import",
    ),
    path("integrations/soda/", views.SodaView.as_view(), name="soda-import"),
]
