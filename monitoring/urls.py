from django.urls import path

from monitoring import maintenance_views, views

app_name = "monitoring"

urlpatterns = [
    path("", views.board, name="index"),
    path("freshness/<uuid:uuid>/", views.freshness_detail, name="freshness_detail"),
    path("freshness/<uuid:uuid>/check/", views.freshness_check_now, name="freshness_check_now"),
    path("pipelines/<slug:slug>/", views.pipeline_runs, name="pipeline_runs"),
    path("maintenance/<uuid:uuid>/", maintenance_views.maintenance_page, name="maintenance"),
    path("maintenance/windows/<int:pk>/end/", maintenance_views.maintenance_end, name="maintenance_end"),
]
