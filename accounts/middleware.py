from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware

# Machine endpoints authenticate on their own terms (API tokens, heartbeat UUIDs, secret badge links).
EXEMPT_PREFIXES = ("/api/", "/health/", "/ping/", "/badges/", "/static/", "/admin/")


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page needs a signed-in user, except the machine endpoints above and views marked login_not_required."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(EXEMPT_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
