from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_headers
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal import views

api_v1 = [
    path("", include("catalog.api.urls")),
    path("", include("registry.api.urls")),
    path("", include("monitoring.api.urls")),
    path("", include("trust.api.urls")),
    path("", include("accounts.api.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("search/", include("catalog.search_urls")),
    path("accounts/", include("accounts.urls")),
    path("catalog/", include("catalog.urls")),
    path("models/", include("registry.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("ping/", include("monitoring.ping_urls")),
    path("", include("trust.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Building the schema walks every endpoint (seconds); it only changes with a deployment.
    # Tokens authenticate without a cookie: vary on Authorization too, so a cached copy never skips the check.
    path(
        "api/schema/",
        cache_page(3600)(vary_on_headers("Authorization")(SpectacularAPIView.as_view())),
        name="api-schema",
    ),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
