from django.urls import path

from registry import views

app_name = "registry"

urlpatterns = [
    path("", views.model_list, name="model_list"),
    path("<slug:slug>/", views.model_detail, name="model_detail"),
]
