from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from accounts import views

app_name = "accounts"

# The profile page shows what a person owns and watches across the apps: ``portal.urls`` adds it to this namespace.

urlpatterns = [
    path("login/", login_not_required(views.LoginView.as_view()), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # Company sign-in (OpenID Connect): off, with a plain page, while OIDC_CLIENT_ID is unset.
    path("oidc/start/", login_not_required(views.OidcStartView.as_view()), name="oidc_start"),
    path("oidc/callback/", login_not_required(views.OidcCallbackView.as_view()), name="oidc_callback"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    # Forgotten password: an email with a one-time link (valid PASSWORD_RESET_TIMEOUT seconds), then a new password.
    path("password/reset/", login_not_required(views.PasswordResetView.as_view()), name="password_reset"),
    path(
        "password/reset/sent/",
        login_not_required(auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        login_not_required(views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        login_not_required(
            auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html")
        ),
        name="password_reset_complete",
    ),
    path("time-zone/", views.time_zone, name="time_zone"),
    path("tokens/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("teams/<slug:slug>/webhook-cadence/", views.team_webhook_cadence, name="team_webhook_cadence"),
]
