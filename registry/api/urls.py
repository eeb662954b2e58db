from rest_framework.routers import DefaultRouter

from registry.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("models", views.RegisteredModelViewSet, basename="model")
router.register("training-runs", views.TrainingRunViewSet, basename="training-run")
router.register(r"models/(?P<model_slug>[-\w]+)/versions", views.ModelVersionViewSet, basename="model-version")

urlpatterns = router.urls
