from django.urls import path

from registry import training_views, views

app_name = "registry"

urlpatterns = [
    path("", views.model_list, name="model_list"),
    path("new/", views.model_create, name="model_create"),
    path("markdown-preview/", views.markdown_preview, name="markdown_preview"),
    path("<slug:slug>/", views.model_detail, name="model_detail"),
    path("<slug:slug>/edit/", views.model_edit, name="model_edit"),
    path("<slug:slug>/compare/", views.compare, name="compare"),
    path("<slug:slug>/card/edit/", views.card_edit, name="card_edit"),
    path("<slug:slug>/card/meter/", views.card_meter, name="card_meter"),
    path("<slug:slug>/card/print/", views.card_print, name="card_print"),
    path("<slug:slug>/card.md", views.card_markdown, name="card_markdown"),
    path("<slug:slug>/card.json", views.card_json, name="card_json"),
    path("<slug:slug>/card/history/", views.card_history, name="card_history"),
    path("<slug:slug>/card/diff/", views.card_diff, name="card_diff"),
    path("<slug:slug>/card/revisions/<int:number>/restore/", views.card_restore, name="card_restore"),
    path("<slug:slug>/assumptions/", views.assumption_add, name="assumption_add"),
    path("<slug:slug>/assumptions/<int:pk>/", views.assumption_verify, name="assumption_verify"),
    path("<slug:slug>/users/", views.model_user_add, name="model_user_add"),
    path("<slug:slug>/users/<int:pk>/delete/", views.model_user_delete, name="model_user_delete"),
    path("<slug:slug>/gates/", views.quality_gates, name="quality_gates"),
    path("<slug:slug>/train/", training_views.train, name="train"),
    path("<slug:slug>/train/runs/", training_views.training_runs, name="training_runs"),
    path("<slug:slug>/train/columns/", training_views.train_columns, name="train_columns"),
    path("<slug:slug>/versions/", views.model_versions, name="model_versions"),
    path("<slug:slug>/versions/new/", views.version_create, name="version_create"),
    path("<slug:slug>/versions/<int:number>/", views.version_detail, name="version_detail"),
    path("<slug:slug>/versions/<int:number>/stage/", views.version_stage, name="version_stage"),
    path("<slug:slug>/versions/<int:number>/checklist/", views.checklist_tick, name="checklist_tick"),
    path("<slug:slug>/versions/<int:number>/waivers/", views.gate_waive, name="gate_waive"),
    path("<slug:slug>/versions/<int:number>/promotion/", views.promotion_request, name="promotion_request"),
    path("<slug:slug>/versions/<int:number>/promotion/<int:pk>/", views.promotion_decide, name="promotion_decide"),
]
