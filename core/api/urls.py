from django.urls import path
from rest_framework.routers import DefaultRouter

from core.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("job-runs", views.JobRunViewSet, basename="job-run")
router.register("alerts", views.AlertViewSet, basename="alert")

# These two extra segments of the notification list cannot collide with its own routes.
urlpatterns = [
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("notifications/all/read/", views.notifications_all_read, name="notifications-all-read"),
    *router.urls,
]
