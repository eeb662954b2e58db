from django.urls import path
from rest_framework.routers import DefaultRouter

from trust.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("badges", views.BadgeViewSet, basename="badge")
router.register("deprecations", views.DeprecationViewSet, basename="deprecation")
router.register("issues", views.DataIssueViewSet, basename="issue")
router.register("watches", views.WatchViewSet, basename="watch")

# The notification list itself lives in monitoring's router; these two extra segments cannot collide with it.
urlpatterns = [
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("notifications/all/read/", views.notifications_all_read, name="notifications-all-read"),
    *router.urls,
]
