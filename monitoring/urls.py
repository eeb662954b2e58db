from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.board, name="index"),
    path("freshness/<uuid:uuid>/", views.freshness_detail, name="freshness_detail"),
    path("freshness/<uuid:uuid>/check/", views.freshness_check_now, name="freshness_check_now"),
    path("pipelines/<slug:slug>/", views.pipeline_runs, name="pipeline_runs"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<uuid:uuid>/", views.job_detail, name="job_detail"),
    path("jobs/<uuid:uuid>/cancel/", views.job_cancel, name="job_cancel"),
    path("train/<slug:slug>/", views.train, name="train"),
    path("train/<slug:slug>/runs/", views.training_runs, name="training_runs"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("preferences/", views.preferences, name="preferences"),
]
