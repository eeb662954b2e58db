import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal import env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("word,expected", [("true", True), ("Yes", True), ("0", False), ("off", False)])
def test_env_bool_reads_the_usual_words(monkeypatch, word, expected):
    monkeypatch.setenv("SOME_FLAG", word)
    assert env.env_bool("SOME_FLAG") is expected


def test_env_bool_refuses_a_word_it_does_not_know(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG='maybe' is not a boolean"):
        env.env_bool("SOME_FLAG")


def test_env_int_refuses_text_and_too_small_numbers(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env.env_int("SOME_NUMBER", 1)
    monkeypatch.setenv("SOME_NUMBER", "3")
    with pytest.raises(ImproperlyConfigured, match="at least 10"):
        env.env_int("SOME_NUMBER", 1, minimum=10)


def test_database_url_must_be_postgres_or_sqlite(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/portal")
    with pytest.raises(ImproperlyConfigured, match="scheme 'mysql'"):
        env.env_database("DATABASE_URL", "sqlite:///x")
    monkeypatch.setenv("DATABASE_URL", "postgres://localhost")
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        env.env_database("DATABASE_URL", "sqlite:///x")


def test_email_url_is_parsed_into_django_settings(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "smtp+tls://mailer:secret@mail.example.com:587")
    config = env.env_email("EMAIL_URL", "consolemail://")
    assert config["EMAIL_HOST"] == "mail.example.com"
    assert config["EMAIL_PORT"] == 587
    assert config["EMAIL_USE_TLS"] is True


def _manage(*args, **environment):
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_process_refuses_to_start_on_a_malformed_value():
    result = _manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_production_needs_a_secret_key():
    result = _manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_the_deployment_checklist(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="a-long-random-production-secret-" + "x7Q9p2LmZ4rT8vW1" * 3,
        ALLOWED_HOSTS="portal.example.com",
        PORTAL_BASE_URL="https://portal.example.com",
        PORTAL_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_company_sign_in_needs_its_issuer_and_a_known_token_method():
    result = _manage("check", DEBUG="true", OIDC_CLIENT_ID="portal")
    assert result.returncode != 0
    assert "OIDC_ISSUER is not" in result.stderr
    result = _manage(
        "check", DEBUG="true", OIDC_CLIENT_ID="portal", OIDC_ISSUER="https://id.example", OIDC_TOKEN_AUTH_METHOD="jwt"
    )
    assert result.returncode != 0
    assert "OIDC_TOKEN_AUTH_METHOD='jwt'" in result.stderr


def test_production_company_sign_in_passes_the_checklist_and_needs_https(tmp_path):
    production = {
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-production-secret-" + "x7Q9p2LmZ4rT8vW1" * 3,
        "ALLOWED_HOSTS": "portal.example.com",
        "PORTAL_BASE_URL": "https://portal.example.com",
        "PORTAL_VAR_DIR": str(tmp_path),
        "OIDC_CLIENT_ID": "portal",
        "OIDC_CLIENT_SECRET": "s3cret",
    }
    result = _manage("check", "--deploy", "--fail-level", "WARNING", OIDC_ISSUER="https://id.example/", **production)
    assert result.returncode == 0, result.stderr
    result = _manage("check", OIDC_ISSUER="http://id.example", **production)
    assert result.returncode != 0
    assert "OIDC_ISSUER='http://id.example' has scheme 'http'" in result.stderr


def test_sign_out_may_continue_to_the_company_provider_under_the_csp():
    show = "from django.conf import settings; print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"
    result = _manage(
        "shell", "-c", show, DEBUG="true", OIDC_CLIENT_ID="portal", OIDC_ISSUER="https://id.example/realms/corp"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[\"'self'\", 'https://id.example']"
    assert _manage("shell", "-c", show, DEBUG="true").stdout.strip().splitlines()[-1] == "[\"'self'\"]"
