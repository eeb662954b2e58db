from rest_framework.routers import DefaultRouter

from trust.api import consumers, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("badges", views.BadgeViewSet, basename="badge")
router.register("deprecations", views.DeprecationViewSet, basename="deprecation")
router.register("issues", views.DataIssueViewSet, basename="issue")
router.register("dependencies", consumers.DependencyViewSet, basename="dependency")
router.register("change-requests", consumers.ChangeRequestViewSet, basename="change-request")
router.register("watches", views.WatchViewSet, basename="watch")

urlpatterns = router.urls
