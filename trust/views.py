from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from monitoring.models import Notification


def inbox(request):
    notifications = Notification.objects.filter(recipient=request.user).select_related("asset")
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    return render(request, "trust/inbox.html", {"page": page, "query": ""})


@require_POST
def inbox_mark_all_read(request):
    count = Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("trust:inbox")


def issue_list(request):
    return render(request, "trust/issue_list.html", {"nav": "issues"})


def help_page(request):
    return render(request, "trust/help.html")
