from rest_framework.routers import DefaultRouter

from catalog.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("assets", views.AssetViewSet, basename="asset")
router.register("datasets", views.DatasetViewSet, basename="dataset")

urlpatterns = router.urls
