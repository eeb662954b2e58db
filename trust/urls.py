from django.urls import path, register_converter

from trust import subscription_views, views

app_name = "trust"


class BadgeFormat:
    regex = "svg|json"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(BadgeFormat, "badgeformat")

asset = "assets/<str:kind>/<slug:slug>"

urlpatterns = [
    path("issues/", views.issue_list, name="issue_list"),
    path("issues/<uuid:uuid>/", views.issue_detail, name="issue_detail"),
    path("issues/<uuid:uuid>/transition/", views.issue_transition, name="issue_transition"),
    path("issues/<uuid:uuid>/comment/", views.issue_comment, name="issue_comment"),
    path("issues/<uuid:uuid>/attachment/", views.issue_attachment, name="issue_attachment"),
    path(f"{asset}/report-problem/", views.report_problem, name="report_problem"),
    path(f"{asset}/watch/", views.watch, name="watch"),
    path(f"{asset}/unwatch/", views.unwatch, name="unwatch"),
    path(f"{asset}/review/", views.mark_reviewed, name="mark_reviewed"),
    path(f"{asset}/certify/", views.certify, name="certify"),
    path(f"{asset}/deprecate/", views.propose_deprecation, name="propose_deprecation"),
    path(f"{asset}/deprecation-conditions/", views.deprecation_conditions, name="deprecation_conditions"),
    path(f"{asset}/badge/", views.badge_embed, name="badge_embed"),
    path("deprecations/<uuid:uuid>/", views.deprecation_detail, name="deprecation_detail"),
    path("deprecations/<uuid:uuid>/withdraw/", views.deprecation_withdraw, name="deprecation_withdraw"),
    path(
        "deprecations/<uuid:uuid>/acknowledge/<str:kind>/<slug:slug>/",
        views.deprecation_acknowledge,
        name="deprecation_acknowledge",
    ),
    path("badges/s/<str:token>.<badgeformat:fmt>", views.secret_badge, name="secret_badge"),
    path("badges/<str:kind>/<slug:slug>.<badgeformat:fmt>", views.badge, name="badge"),
    path("help/trust/", views.help_page, name="help"),
    path("watching/", subscription_views.watch_list, name="watch_list"),
    path("watching/<int:pk>/upstream/", subscription_views.watch_upstream, name="watch_upstream"),
    path("unsubscribe/<str:token>/", subscription_views.unsubscribe, name="unsubscribe"),
]
