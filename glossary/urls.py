from django.urls import path

from glossary import views

app_name = "glossary"

urlpatterns = [
    path("", views.term_list, name="term_list"),
    path("new/", views.term_create, name="term_create"),
    path("<slug:slug>/", views.term_detail, name="term_detail"),
    path("<slug:slug>/edit/", views.term_edit, name="term_edit"),
]
