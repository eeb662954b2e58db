from django.urls import path

from catalog import search

app_name = "search"

urlpatterns = [path("", search.results, name="results")]
