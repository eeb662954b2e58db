from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts.forms import TokenForm
from accounts.models import ApiToken


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
