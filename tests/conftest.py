"""Shared fixtures: personas, a real Celery worker on Redis, and Playwright on Debian's Chromium."""

import io
import os

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings

from accounts.models import Team
from portal.celery import app as celery_app
from tests import factories
from tests.oidc import oidc, oidc_provider  # noqa: F401 - fixtures: a real OpenID Connect provider

# ORM calls made between Playwright's page actions run inside its event loop's thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _redis_url_for_this_process():
    """Each xdist process gets its own Redis database, or the processes would take each other's tasks.

    ``PORTAL_TEST_REDIS_URL`` may end in a database number: process gwN uses that number plus N (default 1 + N).
    """
    url = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/1").rstrip("/")
    server, _, number = url.rpartition("/")
    if not number.isdigit():
        server, number = url, "1"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return f"{server}/{int(number) + int(worker.removeprefix('gw') or 0)}"


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Every persona gets a real password (``factories.user``); hashing each at full strength (PBKDF2, about
    100 ms) would dominate the suite's time. Tests only, for the whole session: production keeps the default."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session")
def mlflow_dir_of_this_process(tmp_path_factory):
    return tmp_path_factory.mktemp("mlflow")


@pytest.fixture(autouse=True)
def mlflow_store_of_this_process(settings, mlflow_dir_of_this_process):
    """Each test process keeps its own MLflow store: the demo's training run, loaded by tests in two processes at
    once, raced in MLflow's schema migrations on the shared default file in a fresh clone."""
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{mlflow_dir_of_this_process / 'mlflow.sqlite3'}"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: rate-limit counts (per user, token or check) and rendered Markdown of
    one test never reach the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def celery_on_redis():
    """Point Celery at this process's Redis database, emptied first. Tasks are never run eagerly."""
    url = _redis_url_for_this_process()
    # Celery reads these environment variables before its own configuration: they must not be set.
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        os.environ.pop(name, None)
    redis.Redis.from_url(url).flushdb()
    celery_app.conf.update(
        broker_url=url,
        result_backend=url,
        broker_transport_options={},
        task_always_eager=False,
        broker_connection_retry_on_startup=False,
    )
    yield url


@pytest.fixture(scope="session")
def celery_worker(celery_on_redis, django_db_setup):
    """A real worker thread consuming from Redis. Its tests must use ``django_db(transaction=True)``: the worker
    only sees committed rows."""
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING") as worker:
        yield worker


# --- the demo company, loaded once per test process ----------------------------------------------------------
def pytest_collection_modifyitems(items):
    """Tests reading the session's demo run last in each process (xdist sends each process its tests in this
    order): the demo is committed, so every test before them still starts from an empty database, as it expects."""
    items.sort(key=lambda item: "demo" in getattr(item, "fixturenames", ()))


def _load_demo():
    with transaction.atomic():
        call_command("load_demo", stdout=io.StringIO())
        # Drop the wake-ups it queued on commit (badge refresher, job runs): a worker thread started by an earlier
        # test of this process would otherwise write to the shared demo while read-only tests read it.
        transaction.get_connection().run_on_commit.clear()


@pytest.fixture(scope="session")
def demo_of_this_process(django_db_setup, django_db_blocker, tmp_path_factory, mlflow_dir_of_this_process):
    """The demo company, committed to this process's test database once; its files live under the returned
    DATA_ROOT. Emptied again at the end, so a kept database (``--reuse-db``) does not start the next run with it."""
    data_root = tmp_path_factory.mktemp("demo")
    mlflow_uri = f"sqlite:///{mlflow_dir_of_this_process / 'mlflow.sqlite3'}"
    with override_settings(DATA_ROOT=data_root, MLFLOW_TRACKING_URI=mlflow_uri), django_db_blocker.unblock():
        _load_demo()
    yield data_root
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def demo(request, demo_of_this_process, db, settings):
    """The demo company, for tests that only read it (each test's changes are rolled back, but files and MLflow runs
    are not: a test that changes the demo loads its own). Loaded again if a ``transaction=True`` test, which
    empties the database after itself, ran since."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction")
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        raise pytest.UsageError("The shared demo cannot serve a transaction=True test: it would be flushed.")
    settings.DATA_ROOT = demo_of_this_process
    if not Team.objects.exists():
        _load_demo()
    return demo_of_this_process


# --- people ----------------------------------------------------------------------------------------------------
@pytest.fixture
def team(db):
    return factories.team("Data Platform")


@pytest.fixture
def owner(team):
    """Owns the assets made by the factories; member of ``team``."""
    return factories.user("olivia", teams=[team])


@pytest.fixture
def teammate(team):
    return factories.user("tom", teams=[team])


@pytest.fixture
def outsider(db):
    """Signed in, but neither owner, team member nor staff."""
    return factories.user("oscar")


@pytest.fixture
def staff(db):
    return factories.user("stella", is_staff=True, is_superuser=True)


@pytest.fixture
def client_for():
    """``client_for(user)``: a test client signed in as that user."""

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


# --- browser ---------------------------------------------------------------------------------------------------
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright cannot download browsers here; it drives Debian's Chromium instead."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture
def sign_in(live_server):
    """``sign_in(page, user)``: the page's browser context carries a session for ``user``."""

    def do(page, user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies["sessionid"]
        page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
        return page

    return do


@pytest.fixture
def page_errors(page):
    """Collects console errors and failed requests on ``page``; a test asserts the list stays empty."""
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(f"console: {message.text}"))
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    page.on(
        "response",
        lambda response: response.status >= 400 and errors.append(f"HTTP {response.status}: {response.url}"),
    )
    return errors
