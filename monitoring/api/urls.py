from rest_framework.routers import DefaultRouter

from monitoring.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("freshness-policies", views.FreshnessPolicyViewSet, basename="freshness-policy")
router.register("freshness-checks", views.FreshnessCheckViewSet, basename="freshness-check")

urlpatterns = router.urls
