from rest_framework.routers import DefaultRouter

from monitoring.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("job-runs", views.JobRunViewSet, basename="job-run")
router.register("training-runs", views.TrainingRunViewSet, basename="training-run")
router.register("freshness-policies", views.FreshnessPolicyViewSet, basename="freshness-policy")
router.register("freshness-checks", views.FreshnessCheckViewSet, basename="freshness-check")
router.register("alerts", views.AlertViewSet, basename="alert")

urlpatterns = router.urls
