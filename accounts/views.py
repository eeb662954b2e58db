from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.forms import TokenForm
from accounts.models import ApiToken


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


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
