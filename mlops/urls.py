from django.urls import path

from mlops import views

app_name = "mlops"

urlpatterns = [
    path("", views.maturity_list, name="maturity_list"),
    path("<slug:slug>/", views.monitoring, name="monitoring"),
    path("<slug:slug>/settings/", views.monitoring_settings, name="settings"),
    path("<slug:slug>/check/", views.check_now, name="check_now"),
    path("<slug:slug>/challenger/", views.set_challenger, name="set_challenger"),
    path("<slug:slug>/challenger/promote/", views.promote_challenger, name="promote_challenger"),
    path("<slug:slug>/score/", views.score, name="score"),
    path("<slug:slug>/schedules/", views.schedule_add, name="schedule_add"),
    path("<slug:slug>/schedules/<int:pk>/active/", views.schedule_active, name="schedule_active"),
    path("<slug:slug>/schedules/<int:pk>/delete/", views.schedule_delete, name="schedule_delete"),
    path("<slug:slug>/hooks/", views.hook_add, name="hook_add"),
    path("<slug:slug>/hooks/deliveries/", views.delivery_log, name="delivery_log"),
]
