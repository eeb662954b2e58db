from django.urls import path

from mlops.api import views

urlpatterns = [
    path("models/<slug:slug>/versions/<int:number>/predictions/", views.PredictionBatchView.as_view(),
         name="model-version-predictions"),
    path("models/<slug:slug>/versions/<int:number>/outcomes/", views.OutcomeBatchView.as_view(),
         name="model-version-outcomes"),
    path("models/<slug:slug>/versions/<int:number>/scoring/", views.ScoringView.as_view(),
         name="model-version-scoring"),
    path("models/<slug:slug>/monitoring/", views.MonitoringView.as_view(), name="model-monitoring"),
]  # fmt: skip
