from django.urls import path

from quality import views

app_name = "quality"
urlpatterns = [path("dataset/<slug:slug>/", views.dataset_quality, name="dataset")]
