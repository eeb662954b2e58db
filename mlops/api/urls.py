from django.urls import path

from mlops.api import views

urlpatterns = [
    path("models/<slug:slug>/versions/<int:number>/predictions/", views.PredictionBatchView.as_view(),
         name="model-version-predictions"),
    path("models/<slug:slug>/versions/<int:number>/outcomes/", views.OutcomeBatchView.as_view(),
         name="model-version-outcomes"),
    path("models/<slug:slug>/versions/<int:number>/scoring/", views.ScoringView.as_view(),
         name="model-version-scoring"),
    path("models/<slug:slug>/gates/", views.QualityGatesView.as_view(), name="model-gates"),
    path("models/<slug:slug>/hooks/", views.DeliveryHooksView.as_view(), name="model-hooks"),
    path("models/<slug:slug>/hooks/<int:pk>/", views.DeliveryHookView.as_view(), name="model-hook"),
    path("models/<slug:slug>/hooks/<int:pk>/deliveries/", views.DeliveryLogView.as_view(),
         name="model-hook-deliveries"),
    path("models/<slug:slug>/scoring-schedules/", views.ScoringSchedulesView.as_view(),
         name="model-scoring-schedules"),
    path("models/<slug:slug>/scoring-schedules/<int:pk>/", views.ScoringScheduleView.as_view(),
         name="model-scoring-schedule"),
    path("models/<slug:slug>/monitoring/", views.MonitoringView.as_view(), name="model-monitoring"),
]  # fmt: skip
