from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_headers
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import urls as accounts_urls
from accounts import views as accounts_views
from portal import views

# No database, no context processor: these answer even while PostgreSQL is down (portal/errors.py).
handler500 = "portal.errors.server_error"
handler400 = "portal.errors.bad_request"
handler404 = "portal.errors.not_found"

accounts_pages = [*accounts_urls.urlpatterns, path("profile/", views.profile, name="profile")]

api_v1 = [
    path("", include("core.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("mlops.api.urls")),
    path("", include("registry.api.urls")),
    path("", include("monitoring.api.urls")),
    path("", include("quality.api.urls")),
    path("", include("trust.api.urls")),
    path("", include("accounts.api.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("search/", include("catalog.search_urls")),
    path(
        "accounts/",
        include(([*accounts_urls.urlpatterns, path("profile/", views.profile, name="profile")], "accounts")),
    ),
    path("catalog/", include("catalog.urls")),
    path("models/", include("registry.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("quality/", include("quality.urls")),
    path("mlops/", include("mlops.urls")),
    path("glossary/", include("glossary.urls")),
    path("ping/", include("monitoring.ping_urls")),
    path("", include("core.urls")),
    path("", include("trust.urls")),
    # Job, alert and preference pages moved out of /monitoring/; links in notifications already sent still work.
    re_path(r"^monitoring/(?P<rest>(jobs|alerts)/.*)$", RedirectView.as_view(url="/%(rest)s", permanent=True)),
    path("monitoring/preferences/", RedirectView.as_view(pattern_name="core:preferences", permanent=True)),
    re_path(
        r"^monitoring/train/(?P<slug>[-\w]+)/(?P<rest>(runs/)?)$",
        RedirectView.as_view(url="/models/%(slug)s/train/%(rest)s", permanent=True),
    ),
    # Before the admin's own: with PASSWORD_SIGN_IN off, staff sign in on the portal's page (company sign-in).
    path("admin/login/", accounts_views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Building the schema walks every endpoint (seconds); it only changes with a deployment.
    # Tokens authenticate without a cookie: vary on Authorization too, so a cached copy never skips the check.
    path(
        "api/schema/",
        cache_page(3600)(vary_on_headers("Authorization")(SpectacularAPIView.as_view())),
        name="api-schema",
    ),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
