from django.urls import path
from rest_framework.routers import DefaultRouter

from catalog.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("assets", views.AssetViewSet, basename="asset")
router.register("sources", views.SourceViewSet, basename="source")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("reports", views.ReportViewSet, basename="report")
router.register("pipelines", views.PipelineViewSet, basename="pipeline")
router.register("scans", views.ScanViewSet, basename="scan")

urlpatterns = [path("lineage", views.OpenLineageView.as_view(), name="openlineage"), *router.urls]
