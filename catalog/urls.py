from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.asset_list, name="asset_list"),
    path("reports/", views.report_list, name="report_list"),
    path("hygiene/", views.hygiene, name="hygiene"),
    path("conventions/", views.conventions, name="conventions"),
    path("suggest/", views.asset_suggestions, name="asset_suggestions"),
    path("new/<str:kind>/", views.asset_create, name="asset_create"),
    path("dataset/<slug:slug>/columns/<str:column>/impact/", views.column_impact, name="column_impact"),
    path("<str:kind>/<slug:slug>/", views.asset_detail, name="asset_detail"),
    path("<str:kind>/<slug:slug>/edit/", views.asset_edit, name="asset_edit"),
    path("<str:kind>/<slug:slug>/delete/", views.asset_delete, name="asset_delete"),
    path("<str:kind>/<slug:slug>/lineage/", views.lineage, name="lineage"),
    path("<str:kind>/<slug:slug>/lineage/add/", views.lineage_add, name="lineage_add"),
    path("<str:kind>/<slug:slug>/lineage/remove/", views.lineage_remove, name="lineage_remove"),
    path("<str:kind>/<slug:slug>/impact.csv", views.impact_csv, name="impact_csv"),
    path("<str:kind>/<slug:slug>/scan/", views.scan, name="scan"),
    # Last: every other word after an asset is a tab of its page (catalog.tabs).
    path("<str:kind>/<slug:slug>/<slug:tab>/", views.asset_detail, name="asset_tab"),
]
