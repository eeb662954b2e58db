"""Data sources: where the portal reads from, which hosts staff allow, and which secrets go where."""

import ipaddress
import os
import re
import socket

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from catalog.choices import (
    SourceKind,
)

# A source's secret is read from the environment only if its variable has this prefix: otherwise an owner could
# name SECRET_KEY or DATABASE_URL and point the source at a host of their own, and the worker would send it there.

SECRET_ENV_PREFIX = "PORTAL_SECRET_"


def source_secret(variable):
    """The secret a source names, or None; variables outside ``SECRET_ENV_PREFIX`` are never read."""
    if not variable or not variable.startswith(SECRET_ENV_PREFIX):
        return None
    return os.environ.get(variable)


# Why a dataset cannot be placed in a source: one wording for the API, the page and every other way in.
SOURCE_NOT_YOURS = (
    "You may add datasets only to sources you may edit (their owner, their team or staff); "
    "“{source}” is not one of them. Ask its owner to add the dataset."
)

# Keys that would hold a secret if someone typed one into a source's connection settings.
SECRET_KEYS = {"password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "access_key", "secret_key"}


class DataSource(models.Model):
    """A system data is read from. Secrets are never stored: only the name of the environment variable holding one."""

    asset = models.OneToOneField("catalog.Asset", primary_key=True, on_delete=models.CASCADE, related_name="source")
    source_kind = models.CharField(max_length=20, choices=SourceKind.choices)
    connection = models.JSONField(
        default=dict, blank=True, help_text="Host, port, database, path or bucket. Never a password."
    )
    secret_env_var = models.CharField(
        max_length=100, blank=True, help_text="Name of the environment variable that holds the password or key."
    )
    namespace = models.CharField(
        max_length=300,
        blank=True,
        help_text="OpenLineage namespace of this source, e.g. postgres://warehouse:5432. Events name datasets in it.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["namespace"], condition=~Q(namespace=""), name="datasource_unique_namespace"
            )
        ]

    def __str__(self):
        return self.asset.name

    @property
    def is_networked(self):
        """Whether the portal connects to this source over the network (and so where it points is governed)."""
        return self.source_kind in NETWORK_SOURCES

    def address(self):
        """``(host, port)`` the portal would connect to; the port is the kind's default when not given."""
        connection = self.connection if isinstance(self.connection, dict) else {}
        host = str(connection.get("host") or "localhost").strip().lower()
        try:
            port = int(connection.get("port") or DEFAULT_PORTS.get(self.source_kind, 0))
        except (TypeError, ValueError):
            port = -1
        return host, port

    def connection_refusal(self):
        """Why the portal must not connect to this source (a sentence), or "" when it may.

        Checked by ``clean()`` when the source is saved and again by the scan and the probe right before they
        connect, so a host removed from the allow-list (or a source written around the forms) is refused too."""
        if not self.is_networked:
            return ""
        host, port = self.address()
        allowed = [entry for entry in SourceHost.objects.all() if entry.matches(host, port)]
        if not allowed:
            return (
                f"The host {host}:{port} is not on the portal's list of allowed source hosts; ask staff to add it "
                "(admin: Allowed source hosts)."
            )
        if self._is_portal_database() and not any(entry.may_reach_portal_database for entry in allowed):
            return "A source may not point at the portal's own database unless staff allow it for this host."
        return ""

    def _is_portal_database(self):
        """Same server (by address, any loopback name counting as one) and same database as DATABASES['default']."""
        own = settings.DATABASES["default"]
        if self.source_kind != SourceKind.POSTGRESQL or own.get("ENGINE", "").split(".")[-1] != "postgresql":
            return False
        host, port = self.address()
        database = str(self.connection.get("database") or "").strip()
        own_port = int(own.get("PORT") or 5432)
        return port == own_port and database == own.get("NAME") and same_server(host, own.get("HOST") or "localhost")

    def secret(self):
        """The password this source may send: its variable's value, only if staff bound that variable to this
        source and to the host it points at. Raises ``SecretNotBound`` otherwise; None when it names no secret."""
        if not self.secret_env_var:
            return None
        host, _ = self.address()
        # By the exact name staff bound, not by address: nothing to resolve, nothing an attacker's DNS can change.
        if not SecretBinding.objects.filter(variable=self.secret_env_var, source_id=self.pk, host=host).exists():
            raise SecretNotBound(
                f"The secret {self.secret_env_var} is not bound to this source and its host {host}; "
                "staff bind secrets to sources in the admin (Secret bindings)."
            )
        return source_secret(self.secret_env_var)

    def clean(self):
        if not isinstance(self.connection, dict):
            raise ValidationError({"connection": 'Connection settings must be a JSON object, e.g. {"host": "db"}.'})
        secrets = sorted(key for key in self.connection if str(key).lower() in SECRET_KEYS)
        if secrets:
            raise ValidationError(
                {
                    "connection": f"Do not store secrets here ({', '.join(secrets)}). Put the secret in an environment "
                    "variable and give its name below."
                }
            )
        if self.secret_env_var and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.secret_env_var):
            raise ValidationError(
                {"secret_env_var": "An environment variable name has letters, digits and underscores only."}
            )
        if self.secret_env_var and not self.secret_env_var.startswith(SECRET_ENV_PREFIX):
            raise ValidationError(
                {
                    "secret_env_var": f"Source secrets live in variables named {SECRET_ENV_PREFIX}…, "
                    f"e.g. {SECRET_ENV_PREFIX}WAREHOUSE, so no source can read the portal's own settings."
                }
            )
        if self.secret_env_var:
            self._clean_secret_binding()
        refusal = self.connection_refusal()
        if refusal:
            raise ValidationError({"connection": refusal})

    def _clean_secret_binding(self):
        hosts = set(
            SecretBinding.objects.filter(variable=self.secret_env_var, source_id=self.pk).values_list("host", flat=True)
        )
        if not hosts:
            raise ValidationError(
                {
                    "secret_env_var": f"{self.secret_env_var} is not bound to this source. Staff bind each secret "
                    "to the sources (and host) allowed to use it; ask them, or leave this empty."
                }
            )
        if self.is_networked and self.address()[0] not in hosts:
            raise ValidationError(
                {
                    "connection": f"{self.secret_env_var} is bound to {', '.join(sorted(hosts))} only: ask staff to "
                    "bind it to the new host, or keep the host."
                }
            )


class SecretNotBound(Exception):
    """A source names a secret staff did not bind to it (or to the host it now points at)."""


# Sources the portal connects to over the network, and the port each kind listens on when none is given.
NETWORK_SOURCES = (SourceKind.POSTGRESQL, SourceKind.MYSQL)
DEFAULT_PORTS = {SourceKind.POSTGRESQL: 5432, SourceKind.MYSQL: 3306}
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _addresses(host):
    """The IP addresses a host name stands for; loopback names count as one address, whatever they resolve to."""
    host = (host or "").strip().lower().strip("[]")
    if host in LOOPBACK_NAMES:
        return {"loopback"}
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            found = {info[4][0] for info in socket.getaddrinfo(host, None)}
        except (OSError, UnicodeError):
            return {host}
        return {"loopback" if ipaddress.ip_address(a.split("%")[0]).is_loopback else a for a in found} | {host}
    return {"loopback" if address.is_loopback else str(address)}


def same_server(one, other):
    """Whether two host names or addresses reach the same server (they share an address)."""
    return bool(_addresses(one) & _addresses(other))


class SourceHost(models.Model):
    """A host staff allow sources to point at. A PostgreSQL or MySQL source whose host is not listed is refused."""

    host = models.CharField(max_length=255, help_text="A host name or IP address, e.g. warehouse.internal.")
    port = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: any port on this host.")
    may_reach_portal_database = models.BooleanField(
        default=False, help_text="Allow a source here to read the portal's own database (normally refused)."
    )
    note = models.CharField(max_length=300, blank=True, help_text="Why this host is allowed, and who asked.")

    class Meta:
        ordering = ["host", "port"]
        verbose_name = "allowed source host"
        constraints = [models.UniqueConstraint(fields=["host", "port"], name="sourcehost_unique_host_port")]

    def __str__(self):
        return f"{self.host}:{self.port}" if self.port else f"{self.host} (any port)"

    def save(self, *args, **kwargs):
        self.host = self.host.strip().lower()
        super().save(*args, **kwargs)

    def matches(self, host, port):
        # By name, not by resolved address: staff allow the name they reviewed, and a name an attacker controls
        # resolving to an allowed address does not make it allowed.
        return self.host == host and (self.port is None or self.port == port)


class SecretBinding(models.Model):
    """Staff's permission for one source to send one ``PORTAL_SECRET_*`` variable's value to one host.

    Nobody but staff can name a variable on a source: a source's ``secret_env_var`` must be bound to it, and the scan
    and the probe send the value only to the bound host."""

    variable = models.CharField(max_length=100, help_text=f"e.g. {SECRET_ENV_PREFIX}WAREHOUSE.")
    source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="secret_bindings")
    host = models.CharField(max_length=255, help_text="The only host this secret is sent to for this source.")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["variable", "source"]
        constraints = [models.UniqueConstraint(fields=["variable", "source"], name="secretbinding_unique")]

    def __str__(self):
        return f"{self.variable} → {self.source} at {self.host}"

    def save(self, *args, **kwargs):
        self.host = self.host.strip().lower()
        super().save(*args, **kwargs)
        # Binding a variable to a source that names none is also naming it there: staff do it in one step.
        DataSource.objects.filter(pk=self.source_id, secret_env_var="").update(secret_env_var=self.variable)

    def clean(self):
        if not re.fullmatch(SECRET_ENV_PREFIX + r"[A-Za-z0-9_]+", self.variable or ""):
            raise ValidationError({"variable": f"Only variables named {SECRET_ENV_PREFIX}… hold source secrets."})
