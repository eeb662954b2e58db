import logging

import jwt
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST
from mozilla_django_oidc import views as oidc_views

from accounts import oidc
from accounts.forms import TokenForm
from accounts.models import ApiToken, Team
from core.choices import Cadence

log = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    """The password form (unless ``PASSWORD_SIGN_IN`` is off) and, when configured, "Sign in with <company>" first."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "oidc_enabled": oidc.enabled(),
            "oidc_provider_name": settings.OIDC_PROVIDER_NAME,
            "password_sign_in": settings.PASSWORD_SIGN_IN,
        }

    def form_valid(self, form):
        if not settings.PASSWORD_SIGN_IN:  # the backend refuses too; this keeps a forged post from getting here
            return self.form_invalid(form)
        return super().form_valid(form)


@login_not_required
def admin_login(request):
    """The admin's own password form while passwords are on; otherwise the portal's sign-in page, whose company
    button brings staff back to the admin."""
    if settings.PASSWORD_SIGN_IN:
        return admin.site.login(request)
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), login_url=reverse("accounts:login"))


class LogoutView(auth_views.LogoutView):
    """Signs out here and, after a company sign-in, at the company's provider too (OpenID Connect RP-initiated
    logout), which sends the person back to the sign-in page."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        provider_url = oidc.end_session_url(request, id_token)
        return HttpResponseRedirect(provider_url) if provider_url else response


def oidc_failure(request, reason, status):
    """A plain page for a company sign-in that did not work: what happened and the way back, never a 500."""
    return render(
        request,
        "accounts/oidc_error.html",
        {"reason": reason, "oidc_provider_name": settings.OIDC_PROVIDER_NAME},
        status=status,
    )


PROVIDER_DOWN = "The company's sign-in service could not be reached or did not answer properly. Try again in a minute."


class OidcStartView(oidc_views.OIDCAuthenticationRequestView):
    """Sends the person to the company's provider with a fresh state, nonce and PKCE challenge."""

    get_settings = staticmethod(oidc.setting)

    def __init__(self, *args, **kwargs):
        # The base class reads the provider's endpoints here; ours may need the network, so ``get`` reads them.
        super(oidc_views.OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request):
        if not oidc.enabled():
            return oidc_failure(request, "Company sign-in is not configured on this portal.", 404)
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc.endpoints().authorization
        except oidc.ProviderUnavailable as exc:
            log.warning("company sign-in could not start: %s", exc)
            return oidc_failure(request, PROVIDER_DOWN, 503)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        return super().get(request)


class OidcCallbackView(oidc_views.OIDCAuthenticationCallbackView):
    """Where the provider sends the person back. Every way this can fail ends on a plain page saying why."""

    get_settings = staticmethod(oidc.setting)

    def login_failure(self):
        # ``get`` below turns every failure into a page saying why; the base class would redirect without a word.
        return None

    def login_success(self):
        # Django empties the session when someone else was signed in on it; the ID token just stored must stay, or
        # signing out would leave this person's company session open for the next person at this browser.
        id_token = self.request.session.get("oidc_id_token")
        response = super().login_success()
        if id_token:
            self.request.session["oidc_id_token"] = id_token
        return response

    def get(self, request):
        refused = self.refuse_early(request)
        if refused is not None:
            return refused
        try:
            response = super().get(request)
        except (SuspiciousOperation, jwt.PyJWTError, KeyError, ValueError) as exc:
            log.warning("company sign-in refused: %s", exc)
            reason = STATE_LOST if "state" in str(exc) else "The company's answer did not pass the portal's checks."
            return oidc_failure(request, reason, 400)
        except oidc.SignInRefused as exc:
            log.warning("company sign-in refused: %s", exc.reason)
            return oidc_failure(request, exc.reason, exc.status)
        except oidc.ProviderUnavailable as exc:
            log.warning("company sign-in failed: %s", exc)
            return oidc_failure(request, PROVIDER_DOWN, 502)
        user = getattr(self, "user", None)
        if response is None or user is None or not user.is_active:
            return oidc_failure(request, "The company's answer did not pass the portal's checks.", 400)
        return response

    def refuse_early(self, request):
        """The answers refused before the code is exchanged: off, the person said no, the wrong provider, no state."""
        if not oidc.enabled():
            return oidc_failure(request, "Company sign-in is not configured on this portal.", 404)
        error = request.GET.get("error")
        if error:
            # The state is spent (no replay); a person already signed in here stays signed in (a link to this page
            # must not sign anyone out).
            states = request.session.get("oidc_states") or {}
            if states.pop(request.GET.get("state"), None) is not None:
                request.session.modified = True
            if error == "access_denied":
                reason = "You did not allow the portal to use your company account, so you are not signed in."
            elif error in PROVIDER_ERRORS:
                reason = f"The company's sign-in service refused the sign-in ({error})."
            else:  # anybody can write a link to this page: its text is not the provider's word
                reason = "The company's sign-in service refused the sign-in."
            return oidc_failure(request, reason, 403)
        # RFC 9207: a provider that names itself in the answer must be ours (a mix-up attack sends another's code).
        if "iss" in request.GET and request.GET["iss"] != settings.OIDC_ISSUER:
            return oidc_failure(request, "The answer came from another sign-in service than this portal's.", 400)
        if not (request.GET.get("code") and request.GET.get("state")) or not request.session.get("oidc_states"):
            return oidc_failure(request, STATE_LOST, 400)
        return None


# The error codes a provider sends back (RFC 6749 section 4.1.2.1, OpenID Connect Core section 3.1.2.6).
PROVIDER_ERRORS = {
    "invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type", "invalid_scope",
    "server_error", "temporarily_unavailable", "interaction_required", "login_required",
    "account_selection_required", "consent_required", "invalid_request_uri", "invalid_request_object",
    "request_not_supported", "request_uri_not_supported", "registration_not_supported",
}  # fmt: skip

STATE_LOST = "This sign-in did not start here, or it took too long. Start again from the sign-in page."


class PasswordChangeView(auth_views.PasswordChangeView):
    """Needs the current password. This session stays signed in; the user's other sessions are signed out (their
    session hash no longer matches the new password's)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    @property
    def extra_context(self):
        return {"password_min_length": settings.PASSWORD_MIN_LENGTH}

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is changed. Your other sessions are signed out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Asks for an email address and, if an active account with a usable password has it, mails a one-time link.
    The page says the same whether or not the address is known, so it tells nobody who has an account."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    @property
    def extra_email_context(self):
        # The link starts with the configured address, never with the Host header the request came with.
        return {"base_url": settings.PORTAL_BASE_URL}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    @property
    def extra_context(self):
        return {"password_min_length": settings.PASSWORD_MIN_LENGTH}


@require_POST
def token_create(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the token a name that says what it is for.")
        return redirect("accounts:profile")
    _, key = ApiToken.issue(request.user, form.cleaned_data["name"])
    # Shown once on the next page and then forgotten: only the hash is stored.
    request.session["new_token"] = key
    return redirect("accounts:profile")


@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user, revoked_at__isnull=True)
    token.revoke()
    messages.success(request, f"Token “{token.name}” revoked; programs using it are now refused.")
    return redirect("accounts:profile")


@require_POST
def team_webhook_cadence(request, slug):
    """A member of the team (or staff) chooses how often its webhook hears non-critical news."""
    queryset = Team.objects.all() if request.user.is_staff else request.user.teams.all()
    team = get_object_or_404(queryset, slug=slug)
    cadence = request.POST.get("webhook_cadence")
    if cadence not in Cadence.values:
        messages.error(request, "Choose immediately, a daily digest or a weekly digest.")
    else:
        Team.objects.filter(pk=team.pk).update(webhook_cadence=cadence)
        messages.success(request, f"{team.name}'s webhook: {Cadence(cadence).label.lower()} for non-critical news.")
    return redirect("core:preferences")


def time_zone(request):
    """One's own time zone: kept on the profile, and in the session so every page shows it without a query."""
    from accounts.forms import TimeZoneForm
    from accounts.middleware import remember_time_zone
    from accounts.models import Profile

    form = TimeZoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a time zone from the list.")
        return redirect("accounts:profile")
    name = form.cleaned_data["time_zone"]
    Profile.objects.update_or_create(user=request.user, defaults={"time_zone": name})
    remember_time_zone(request, name)
    messages.success(request, f"Dates and times are now shown in {name or settings.TIME_ZONE}.")
    return redirect("accounts:profile")
