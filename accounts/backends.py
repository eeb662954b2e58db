from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class PasswordBackend(ModelBackend):
    """Django's username and password check, refused while ``PASSWORD_SIGN_IN`` is off (company sign-in only).

    It still finds the user of a session, so turning passwords off does not sign out people who are signed in.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.PASSWORD_SIGN_IN:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
