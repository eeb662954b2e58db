"""Teams, people and tags: who owns and works on the generated catalog; and each person's inbox."""

import numpy as np
from django.contrib.auth import get_user_model

from accounts.models import Team
from bench.generate.shape import DOMAIN_SIZE, DOMAINS, ENTITIES
from catalog.models import Tag
from core.choices import NotificationKind
from core.models import Notification

FIRST_NAMES = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi", "Liam", "Maya",
    "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yara", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Okafor", "Nguyen", "Schmidt", "Garcia", "Kowalski", "Haddad", "Rossi", "Tanaka", "Dubois", "Silva",
    "Jensen", "Ivanova", "Murphy", "Cohen", "Patel", "Larsen", "Moreau", "Novak", "Ortiz", "Berg",
]  # fmt: skip
NOTIFICATIONS_PER_USER = 20


def write_teams(gen):
    count = gen.counts["teams"]
    first = gen.allocate("teams", Team, count)
    functions = ["Analytics", "Engineering", "Science", "Platform", "Operations"]
    rows = []
    for n in range(count):
        domain = DOMAINS[n % len(DOMAINS)]
        name = f"{domain.title()} {functions[(n // len(DOMAINS)) % len(functions)]} {n + 1}"
        rows.append((first + n, name, f"{domain}-{n + 1}", f"The {domain} people, group {n + 1}.", "", ""))
    gen.copy(Team, ["id", "name", "slug", "description", "email", "webhook_url"], rows)


def write_users(gen):
    rng = gen.rng("users")
    count, teams = gen.counts["users"], gen.counts["teams"]
    user_model = get_user_model()
    first = gen.allocate("users", user_model, count)
    joined = gen.when(rng, count, 3 * 365)
    firsts = rng.integers(0, len(FIRST_NAMES), count)
    lasts = rng.integers(0, len(LAST_NAMES), count)

    def rows():
        for n in range(count):
            username = f"user{n + 1:05d}"
            # "!" marks an unusable password: generated people cannot sign in; the benchmark sets its own.
            yield (first + n, "!", None, False, username, FIRST_NAMES[firsts[n]], LAST_NAMES[lasts[n]],
                   f"{username}@example.com", False, True, joined[n])  # fmt: skip

    gen.copy(
        user_model,
        ["id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email",
         "is_staff", "is_active", "date_joined"],
        rows(),
    )  # fmt: skip
    # Everyone is in their home team; a third are also in a second one.
    membership = Team.members.through
    second = rng.integers(1, teams, count) if teams > 1 else np.zeros(count, dtype=int)
    extra = rng.random(count) < 1 / 3

    def memberships():
        for n in range(count):
            home = n % teams
            yield first + n, gen.ids["teams"] + home
            if extra[n] and teams > 1:
                yield first + n, gen.ids["teams"] + (home + second[n]) % teams

    gen.copy(membership, ["user_id", "team_id"], memberships())


def write_tags(gen):
    count = gen.counts["tags"]
    first = gen.allocate("tags", Tag, count)
    words = list(
        dict.fromkeys(["pii", "gold", "silver", "bronze", "certified", "deprecated-soon", *DOMAINS, *ENTITIES])
    )
    names = [words[n] if n < len(words) else f"topic-{n + 1}" for n in range(count)]
    gen.copy(Tag, ["id", "name"], [(first + n, names[n]) for n in range(count)])


def write_notifications(gen):
    """Each person's inbox: alerts and notices about datasets of their home team, most of them read."""
    rng = gen.rng("notifications")
    users, teams, datasets = gen.counts["users"], gen.counts["teams"], gen.counts["datasets"]
    per_user = NOTIFICATIONS_PER_USER
    kinds = [
        (NotificationKind.FRESHNESS, "{name} is late"), (NotificationKind.JOB, "Schema scan of {name} finished"),
        (NotificationKind.SCHEMA_CHANGE, "{name} changed its columns"), (NotificationKind.ISSUE, "New issue on {name}"),
        (NotificationKind.DEPRECATION, "{name} will be retired"),
    ]  # fmt: skip
    kind = rng.integers(0, len(kinds), users * per_user)
    pick = rng.integers(0, DOMAIN_SIZE, users * per_user)
    sent = gen.when(rng, users * per_user, 60)
    unread = rng.random(users * per_user) < 0.3
    domains = max(1, datasets // DOMAIN_SIZE)

    def rows():
        for n in range(users * per_user):
            user = n // per_user
            # A dataset in one of the domains the user's home team owns (domain d belongs to team d % teams).
            domain = (user % teams) % domains
            dataset = min(datasets - 1, domain * DOMAIN_SIZE + pick[n])
            name = f"dataset #{dataset + 1}"
            what, title = kinds[kind[n]]
            yield (
                gen.ids["users"] + user, gen.ids["datasets"] + dataset, what, title.format(name=name), "",
                "", sent[n], None if unread[n] else sent[n],
            )  # fmt: skip

    columns = ["recipient_id", "asset_id", "kind", "title", "body", "url", "created_at", "read_at"]
    gen.copy(Notification, columns, rows())
