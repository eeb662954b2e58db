from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<uuid:uuid>/", views.job_detail, name="job_detail"),
    path("jobs/<uuid:uuid>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<uuid:uuid>/retry/", views.job_retry, name="job_retry"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.inbox_mark_all_read, name="inbox_mark_all_read"),
    path("inbox/read/", views.inbox_mark_selected_read, name="inbox_mark_selected_read"),
    path("inbox/<int:pk>/", views.inbox_open, name="inbox_open"),
    path("inbox/<int:pk>/read/", views.inbox_mark_read, name="inbox_mark_read"),
    path("inbox/preferences/", views.preferences, name="preferences"),
]
