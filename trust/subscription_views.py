"""A person's subscriptions: their watches (with the switch for problems upstream) and the one-click
unsubscribe link that emails carry (no sign-in: the signed link is the permission, see ``trust.unsubscribe``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from catalog.models import Watch
from trust.unsubscribe import known, watch_for


@login_not_required
@csrf_exempt  # RFC 8058: the mail client posts "List-Unsubscribe=One-Click" with no session; the signed link is it
def unsubscribe(request, token):
    """GET shows what the link stops and one button; POST stops that watch, and only that one."""
    if not known(token):
        raise Http404("This unsubscribe link is not valid.")
    watch = watch_for(token)
    if request.method == "POST":
        if watch is not None:
            name = watch.asset.name
            Watch.objects.filter(pk=watch.pk).delete()
            return render(request, "trust/unsubscribe.html", {"done": True, "name": name})
        return render(request, "trust/unsubscribe.html", {"done": True, "name": None})
    return render(request, "trust/unsubscribe.html", {"watch": watch, "token": token})


def watch_list(request):
    """What the signed-in person watches, each with its switch for problems upstream."""
    watches = Watch.objects.filter(user=request.user).select_related("asset").order_by("asset__name")
    return render(request, "trust/watch_list.html", {"watches": watches, "nav": "monitoring"})


@require_POST
def watch_upstream(request, pk):
    """Turn problems upstream on or off for one of the person's own watches."""
    watch = get_object_or_404(Watch.objects.select_related("asset"), pk=pk, user=request.user)
    value = request.POST.get("include_upstream")
    if value not in ("on", "off"):
        messages.error(request, "Choose whether to hear about problems upstream: on or off.")
        return redirect("trust:watch_list")
    Watch.objects.filter(pk=watch.pk).update(include_upstream=value == "on")
    state = "now hear" if value == "on" else "no longer hear"
    messages.success(request, f"You {state} about problems upstream of {watch.asset.name}.")
    return redirect("trust:watch_list")
