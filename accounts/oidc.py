"""Company sign-in with OpenID Connect (mozilla-django-oidc, authorization-code flow with PKCE).

Configured only by environment variables (``OIDC_*``, see README "Configuration"); off while ``OIDC_CLIENT_ID`` is
unset. The provider's endpoints come from its discovery document (``OIDC_ISSUER/.well-known/openid-configuration``),
fetched when first needed and kept for an hour, unless each is set explicitly.

Who is who: a person is the pair (issuer, ``sub``) kept in ``OidcIdentity``, never an email address alone. The first
sign-in creates a portal account, or links an existing local account only when the provider says the address is
verified (``email_verified``); an unverified address never takes over an account. At every sign-in the groups claim
decides the person's teams (through ``GroupMapping``, edited by staff in the admin) and the staff flag
(``OIDC_STAFF_GROUPS`` and mappings marked staff).
"""

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from accounts.models import GroupMapping, OidcIdentity

log = logging.getLogger(__name__)

DISCOVERY_TTL = 3600
_discovered = {}  # issuer -> (fetched at, document)


class SignInRefused(Exception):
    """The provider answered, but the portal will not sign this person in; ``reason`` is shown to them."""

    def __init__(self, reason, status=403):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered with an error."""


def enabled():
    return bool(settings.OIDC_CLIENT_ID)


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    authorization: str
    token: str
    userinfo: str
    jwks: str
    end_session: str


def _discovery(issuer):
    fetched = _discovered.get(issuer)
    if fetched and time.monotonic() - fetched[0] < DISCOVERY_TTL:
        return fetched[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"discovery at {url} failed: {exc}") from exc
    # OpenID Connect Discovery 1.0, section 4.3: the document must name exactly the issuer it was fetched for.
    if document.get("issuer") != issuer:
        raise ProviderUnavailable(f"the discovery document names issuer {document.get('issuer')!r}, not {issuer!r}")
    _discovered[issuer] = (time.monotonic(), document)
    return document


def endpoints():
    """The provider's endpoints: each explicit ``OIDC_*_ENDPOINT`` setting, else the discovery document."""
    explicit = {
        "authorization": settings.OIDC_AUTHORIZATION_ENDPOINT,
        "token": settings.OIDC_TOKEN_ENDPOINT,
        "userinfo": settings.OIDC_USERINFO_ENDPOINT,
        "jwks": settings.OIDC_JWKS_URI,
        "end_session": settings.OIDC_END_SESSION_ENDPOINT,
    }
    names = {
        "authorization": "authorization_endpoint",
        "token": "token_endpoint",
        "userinfo": "userinfo_endpoint",
        "jwks": "jwks_uri",
        "end_session": "end_session_endpoint",
    }
    # End of session is optional: a provider without one just does not get the person signed out there.
    if not all(value for key, value in explicit.items() if key != "end_session"):
        if not settings.OIDC_ISSUER:
            raise ProviderUnavailable("OIDC_ISSUER is not set and not every endpoint is configured")
        document = _discovery(settings.OIDC_ISSUER)
        explicit = {key: value or document.get(names[key], "") for key, value in explicit.items()}
    return Endpoints(issuer=settings.OIDC_ISSUER, **explicit)


# mozilla-django-oidc reads its configuration through ``get_settings(name)``: these names come from ours instead.
def setting(name, *default):
    if name == "OIDC_OP_AUTHORIZATION_ENDPOINT":
        return endpoints().authorization
    if name == "OIDC_OP_TOKEN_ENDPOINT":
        return endpoints().token
    if name == "OIDC_OP_USER_ENDPOINT":
        return endpoints().userinfo
    if name == "OIDC_OP_JWKS_ENDPOINT":
        return endpoints().jwks
    fixed = {
        "OIDC_RP_CLIENT_ID": settings.OIDC_CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": settings.OIDC_CLIENT_SECRET,
        "OIDC_RP_SCOPES": settings.OIDC_SCOPES,
        "OIDC_RP_SIGN_ALGO": settings.OIDC_SIGN_ALGORITHM,
        "OIDC_USE_PKCE": True,
        "OIDC_USE_NONCE": True,
        "OIDC_TIMEOUT": settings.OIDC_TIMEOUT,
        "OIDC_TOKEN_USE_BASIC_AUTH": settings.OIDC_TOKEN_AUTH_METHOD == "client_secret_basic",
        "OIDC_STORE_ID_TOKEN": True,
        "OIDC_STORE_ACCESS_TOKEN": False,
        "OIDC_CREATE_USER": True,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "accounts:oidc_callback",
    }
    if name in fixed:
        return fixed[name]
    return import_from_settings(name, *default)


def end_session_url(request, id_token):
    """Where to send a person signing out so the provider ends its session too, or None if it cannot."""
    if not enabled() or not id_token:
        return None
    try:
        url = endpoints().end_session
    except ProviderUnavailable as exc:
        log.warning("company sign-out skipped: %s", exc)
        return None
    if not url:
        return None
    from django.urls import reverse

    query = {
        "id_token_hint": id_token,
        "client_id": settings.OIDC_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("accounts:login")),
    }
    return f"{url}?{urlencode(query)}"


def _groups(claims):
    value = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return {str(group) for group in value}


def apply_groups(user, groups):
    """Set ``user``'s teams and staff flag from the provider's groups.

    Teams some mapping names are managed by the provider: joined when a group maps to them, left when none does
    any more. Teams no mapping names are left as staff set them in the portal. The staff flag follows the groups
    only once staff groups exist (``OIDC_STAFF_GROUPS`` or a mapping marked staff), so a portal without them keeps
    its local staff.
    """
    mappings = list(GroupMapping.objects.all())
    managed = {m.team_id for m in mappings if m.team_id}
    wanted = {m.team_id for m in mappings if m.team_id and m.group in groups}
    current = set(user.teams.filter(pk__in=managed).values_list("pk", flat=True))
    if current - wanted:
        user.teams.remove(*(current - wanted))
    if wanted - current:
        user.teams.add(*(wanted - current))
    staff_groups = set(settings.OIDC_STAFF_GROUPS) | {m.group for m in mappings if m.is_staff}
    if staff_groups:
        is_staff = bool(staff_groups & groups)
        # In this portal staff are its administrators: the two flags go together (as in the demo's admin).
        if user.is_staff != is_staff or user.is_superuser != is_staff:
            user.is_staff = user.is_superuser = is_staff
            user.save(update_fields=["is_staff", "is_superuser"])


class OidcBackend(OIDCAuthenticationBackend):
    """Signs a person in from the provider's answer; does nothing when company sign-in is off."""

    get_settings = staticmethod(setting)

    def __init__(self, *args, **kwargs):
        # The base class reads every endpoint here; ours are discovered lazily, when a sign-in actually happens
        # (Django builds its backends for every session lookup, where no provider should be asked anything).
        self.UserModel = get_user_model()

    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: settings.OIDC_CLIENT_SECRET)
    OIDC_RP_SIGN_ALGO = property(lambda self: settings.OIDC_SIGN_ALGORITHM)
    OIDC_RP_IDP_SIGN_KEY = None
    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: endpoints().token)
    OIDC_OP_USER_ENDPOINT = property(lambda self: endpoints().userinfo)
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: endpoints().jwks)

    def get_user(self, user_id):
        # Django's rule, not the base class's: a disabled account's open sessions end at their next request.
        return super(OIDCAuthenticationBackend, self).get_user(user_id)

    def authenticate(self, request, **kwargs):
        # Only the callback view passes a nonce; a password sign-in also asks every backend, and must not reach here.
        if not enabled() or request is None or "nonce" not in kwargs:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException as exc:
            raise ProviderUnavailable(str(exc)) from exc

    def _verify_jws(self, payload, key):
        """The signature and, unlike the base class, the audience, issuer, expiry and authorized party."""
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(f"ID token signed with {header.get('alg')!r}, expected {self.OIDC_RP_SIGN_ALGO}")
        try:
            claims = jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=settings.OIDC_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
                leeway=60,
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        # OpenID Connect Core 3.1.3.7: a token for several audiences must name us as its authorized party.
        if len(audiences) > 1 and claims.get("azp") != settings.OIDC_CLIENT_ID:
            raise SuspiciousOperation("ID token for several audiences without this portal as its authorized party")
        return claims

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 5.3.2: the userinfo answer must be about the person the ID token names.
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("the userinfo answer is about another subject than the ID token")
        claims = {**payload, **claims}
        issuer = payload["iss"]  # checked against OIDC_ISSUER with the signature
        with transaction.atomic():
            identity = (
                OidcIdentity.objects.select_for_update()
                .select_related("user")
                .filter(issuer=issuer, subject=claims["sub"])
                .first()
            )
            if identity is not None:
                user = identity.user
                if not user.is_active:
                    raise SignInRefused("Your portal account is disabled. Ask the portal's staff.")
            else:
                try:
                    user = self._link_or_create(issuer, claims)
                except IntegrityError as exc:  # the same person signing in twice at once, or a name just taken
                    raise SignInRefused("This sign-in crossed another one. Try again.", status=409) from exc
            return self.update_user(user, claims)

    def _link_or_create(self, issuer, claims):
        email = (claims.get(settings.OIDC_EMAIL_CLAIM) or "").strip()
        verified = claims.get("email_verified") in (True, "true")
        existing = list(self.UserModel.objects.filter(email__iexact=email)[:2]) if email else []
        if existing:
            if not verified:
                # A provider account could carry anybody's address; only the provider's word that it checked the
                # address links it to the portal account that has it.
                raise SignInRefused(
                    f"A portal account already uses {email}, and your company account does not say that this "
                    "address is verified, so it was not linked. Ask the portal's staff to link your account."
                )
            if not settings.OIDC_LINK_BY_EMAIL:
                raise SignInRefused(
                    f"A portal account already uses {email}; this portal links accounts only by hand. Ask the "
                    "portal's staff to link your company account."
                )
            if len(existing) > 1:
                raise SignInRefused(f"Several portal accounts use {email}. Ask the portal's staff to link yours.")
            user = existing[0]
            if OidcIdentity.objects.filter(user=user, issuer=issuer).exists():
                raise SignInRefused(f"The portal account of {email} is already linked to another company account.")
            if not user.is_active:
                raise SignInRefused("Your portal account is disabled. Ask the portal's staff.")
        else:
            user = self.UserModel.objects.create_user(self._free_username(claims), email=email if verified else "")
            user.set_unusable_password()
            user.save(update_fields=["password"])
        OidcIdentity.objects.create(user=user, issuer=issuer, subject=claims["sub"])
        log.info("company sign-in: %s linked to %s (%s)", claims["sub"], user.username, issuer)
        return user

    def _free_username(self, claims):
        wanted = str(claims.get(settings.OIDC_USERNAME_CLAIM) or claims.get("email") or "").split("@")[0]
        base = slugify(wanted)[:140] or "user"
        # Never the name of someone already here: a same-named local account is a different person.
        if not self.UserModel.objects.filter(username=base).exists():
            return base
        return f"{base}-{claims['sub'][-6:]}" if len(claims["sub"]) >= 6 else f"{base}-{claims['sub']}"

    def update_user(self, user, claims):
        changed = []
        for field, claim in (("first_name", "given_name"), ("last_name", "family_name")):
            value = str(claims.get(claim) or "")[:150]
            if value and getattr(user, field) != value:
                setattr(user, field, value)
                changed.append(field)
        email = (claims.get(settings.OIDC_EMAIL_CLAIM) or "").strip()
        verified = claims.get("email_verified") in (True, "true")
        taken = self.UserModel.objects.filter(email__iexact=email).exclude(pk=user.pk)
        if email and verified and user.email != email and not taken.exists():
            user.email = email
            changed.append("email")
        if changed:
            user.save(update_fields=changed)
        apply_groups(user, _groups(claims))
        return user
