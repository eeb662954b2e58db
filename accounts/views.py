from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.forms import TokenForm
from accounts.models import ApiToken
from catalog.models import Asset
from monitoring.models import Notification


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def profile(request):
    user = request.user
    assets = Asset.objects.visible().with_people().order_by("kind", "name")
    context = {
        "owned": assets.filter(owner=user),
        "team_owned": assets.filter(team__members=user).exclude(owner=user).distinct(),
        "watched": assets.filter(watches__user=user),
        "teams": user.teams.all(),
        "notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).select_related("asset")[:10],
        "tokens": user.api_tokens.filter(revoked_at__isnull=True),
        "token_form": TokenForm(),
        "new_token": request.session.pop("new_token", None),
    }
    return render(request, "accounts/profile.html", context)


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
