import re
from importlib import import_module

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


def _entered_by_its_prefixes(module):
    """``include(module)`` entered only by paths that start with one of its routes' first segments.

    Django tries URL patterns one by one, and for each one that does not match it notes what it tried: with every
    app's API routes included at the same level, "get model" went through some 150 patterns of other apps first
    (about a millisecond). A zero-width lookahead on the first segments skips an app's routes in one regex test and
    changes nothing else (reversing ignores it). A route whose first segment cannot be read keeps the plain include.
    """
    firsts = set()
    for pattern in import_module(module).urlpatterns:
        first = re.match(r"[\w-]+(?=/|\\.|$)", str(pattern.pattern).lstrip("^"))
        if first is None:
            return path("", include(module))
        firsts.add(first.group(0))
    return re_path(rf"^(?=(?:{'|'.join(re.escape(first) for first in sorted(firsts))})(?:[/.]|$))", include(module))


api_v1 = [
    _entered_by_its_prefixes(module)
    for module in (
        "core.api.urls", "catalog.api.urls", "mlops.api.urls", "registry.api.urls", "monitoring.api.urls",
        "quality.api.urls", "trust.api.urls", "accounts.api.urls",
    )
]  # fmt: skip

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
