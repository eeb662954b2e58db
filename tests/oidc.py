"""A real OpenID Connect provider for the tests (node's oidc-provider, tests/fixtures/oidc_provider/), and a person's
browser for the steps at the provider.

The provider is started once per test process on a free port, with the portal registered as a client and people
who belong to groups; ``oidc_people`` are written to a file it reads at every sign-in, so a test changes someone's
groups between two sign-ins as the company's directory would.
"""

import copy
import fcntl
import json
import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

PROVIDER_DIR = Path(__file__).parent / "fixtures" / "oidc_provider"
CLIENT_ID = "data-portal"
CLIENT_SECRET = "portal-client-secret-for-tests"
PASSWORD = "company password"

PEOPLE = {
    "ada": {"sub": "0001-ada", "email": "ada@corp.example", "email_verified": True, "name": "Ada Lovelace",
            "given_name": "Ada", "family_name": "Lovelace", "preferred_username": "ada",
            "groups": ["data-engineering", "finance-analysts"]},
    "max": {"sub": "0002-max", "email": "max@corp.example", "email_verified": True, "name": "Max Admin",
            "given_name": "Max", "family_name": "Admin", "preferred_username": "max",
            "groups": ["data-engineering", "portal-admins"]},
    # Claims the address of the local account ``olivia`` (tests.factories.user), without the provider verifying it.
    "eve": {"sub": "0003-eve", "email": "olivia@example.com", "email_verified": False, "name": "Eve",
            "preferred_username": "olivia", "groups": ["data-engineering"]},
    # The same address, verified by the provider: the company's own olivia.
    "olivia": {"sub": "0004-olivia", "email": "olivia@example.com", "email_verified": True, "name": "Olivia",
               "preferred_username": "olivia", "groups": ["finance-analysts"]},
}  # fmt: skip


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_node_modules():
    """``npm ci`` from the committed lock file when node_modules is missing; one test process at a time."""
    with open(PROVIDER_DIR / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR, check=True, capture_output=True, timeout=300
            )


@dataclass
class Provider:
    issuer: str
    key: dict  # the private signing key (JWK), for the tests that play a rogue token endpoint
    people_file: Path
    process: subprocess.Popen
    people: dict = field(default_factory=dict)

    def write_people(self, people):
        self.people = people
        self.people_file.write_text(json.dumps({login: {**p, "password": PASSWORD} for login, p in people.items()}))

    def set_groups(self, login, groups):
        people = copy.deepcopy(self.people)
        people[login]["groups"] = list(groups)
        self.write_people(people)

    def sign(self, claims):
        """An ID token signed with the provider's own key."""
        key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(self.key))
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.key["kid"]})


def start_provider(tmp_path, portal_urls):
    ensure_node_modules()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private)), "kid": "test-key", "use": "sig", "alg": "RS256"}
    # PyJWT marks a private key "sign" only; the provider also verifies with it (the id_token_hint at sign-out).
    key.pop("key_ops", None)
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "client_name": "Data portal",
        "redirect_uris": [f"{url}/accounts/oidc/callback/" for url in portal_urls],
        "post_logout_redirect_uris": [f"{url}/accounts/login/" for url in portal_urls],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    # Another application of the company: its tokens are not for the portal.
    other = {**client, "client_id": "other-app", "client_secret": "other-secret", "client_name": "Other app"}
    people_file = tmp_path / "people.json"
    config = tmp_path / "provider.json"
    config.write_text(
        json.dumps(
            {"issuer": issuer, "port": port, "keys": [key], "clients": [client, other], "users_file": str(people_file)}
        )
    )
    log = open(tmp_path / "provider.log", "w")  # noqa: SIM115 - kept open for the process's life
    process = subprocess.Popen(
        ["node", str(PROVIDER_DIR / "provider.mjs"), str(config)], cwd=PROVIDER_DIR, stdout=log, stderr=log
    )
    provider = Provider(issuer=issuer, key=key, people_file=people_file, process=process)
    provider.write_people(copy.deepcopy(PEOPLE))
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                return provider
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = (tmp_path / "provider.log").read_text()
            raise RuntimeError(f"the test OpenID Connect provider did not start: {output}")
        time.sleep(0.1)


def stop_provider(provider):
    provider.process.terminate()
    provider.process.wait(timeout=10)


def configure_portal(settings, provider):
    """Company sign-in on, pointed at ``provider``, as the OIDC_* environment variables would set it."""
    from accounts import oidc

    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_PROVIDER_NAME = "Test Company"
    settings.OIDC_STAFF_GROUPS = ["portal-admins"]
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = [*policy["DIRECTIVES"]["form-action"], provider.issuer]
    settings.CONTENT_SECURITY_POLICY = policy
    oidc._discovered.clear()
    provider.write_people(copy.deepcopy(PEOPLE))


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """The provider, with the portal's test client (``http://testserver``) registered."""
    provider = start_provider(tmp_path_factory.mktemp("oidc"), ["http://testserver"])
    yield provider
    stop_provider(provider)


@pytest.fixture
def oidc(settings, oidc_provider):
    configure_portal(settings, oidc_provider)
    return oidc_provider


# --- the person's browser at the provider -------------------------------------------------------------------------
class CompanyBrowser:
    """Does at the provider what a person does in a browser (follows redirects, fills the sign-in form, allows or
    denies) and hands the answer back to the portal's test client, as the browser would follow the last redirect."""

    def __init__(self, provider, client, portal="http://testserver"):
        self.provider = provider
        self.client = client
        self.portal = portal
        self.session = requests.Session()

    def sign_in(self, login, password=PASSWORD, allow=True, next_url=None):
        """From "Sign in with …" to the portal's answer to the provider's redirect (a Django test response)."""
        start = "/accounts/oidc/start/" + (f"?next={next_url}" if next_url else "")
        response = self.client.get(start)
        assert response.status_code == 302, response.content
        return self.follow(response["Location"], login, password, allow)

    def follow(self, url, login, password=PASSWORD, allow=True, deliver=True):
        """Through the provider's pages to its redirect back to the portal; ``deliver=False`` returns that URL
        instead of opening it (an attacker keeping a code for someone else's browser)."""
        answer = self.session.get(url, allow_redirects=False, timeout=10)
        for _ in range(10):
            if answer.is_redirect:
                location = urljoin(answer.url, answer.headers["Location"])
                if location.startswith(self.portal):
                    if not deliver:
                        return location
                    part = urlsplit(location)
                    return self.client.get(f"{part.path}?{part.query}")
                answer = self.session.get(location, allow_redirects=False, timeout=10)
                continue
            page = answer.text
            assert answer.status_code == 200, page
            if 'name="password"' in page:
                action = re.search(r'action="([^"]+/login)"', page).group(1)
                data = {"username": login, "password": password}
            else:
                action = re.search(r'action="([^"]+/%s)"' % ("consent" if allow else "abort"), page).group(1)
                data = {}
            answer = self.session.post(urljoin(answer.url, action), data=data, allow_redirects=False, timeout=10)
        raise AssertionError("the provider never sent the person back to the portal")
