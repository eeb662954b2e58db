from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiToken


class BearerOrTokenAuthentication(authentication.BaseAuthentication):
    """Accepts ``Authorization: Bearer <key>`` (OpenLineage clients, HTTP tools) and ``Token <key>`` (DRF style)."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header must be '<Bearer|Token> <key>'.")
        token = ApiToken.objects.authenticate(parts[1].decode(errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed("This API token is unknown or revoked.")
        # One write at most a minute per token: busy clients must not turn every read into an UPDATE.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
