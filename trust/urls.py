from django.urls import path

from trust import views

app_name = "trust"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.inbox_mark_all_read, name="inbox_mark_all_read"),
    path("issues/", views.issue_list, name="issue_list"),
    path("help/trust/", views.help_page, name="help"),
]
