from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts.forms import TokenForm
from accounts.models import ApiToken, Team
from core.choices import Cadence


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


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
