from rest_framework.routers import DefaultRouter

from registry.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("models", views.RegisteredModelViewSet, basename="model")

urlpatterns = router.urls
