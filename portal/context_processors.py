from django.conf import settings


def portal(request):
    """What every page's navigation needs: the unread notification count for the signed-in user."""
    unread = 0
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        from core.models import Notification

        unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True).count()
    return {"unread_notifications": unread, "PORTAL_BASE_URL": settings.PORTAL_BASE_URL}
