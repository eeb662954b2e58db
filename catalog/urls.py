from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.asset_list, name="asset_list"),
    path("reports/", views.report_list, name="report_list"),
    path("<str:kind>/<slug:slug>/", views.asset_detail, name="asset_detail"),
]
