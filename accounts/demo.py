"""Demo people and teams. Every demo login uses the same password, printed by `make run`."""

from django.contrib.auth import get_user_model

from accounts.models import Team

DEMO_PASSWORD = "portal-demo"

TEAMS = {
    "data-platform": ("Data Platform", "Runs the warehouse, ingestion and the shared pipelines."),
    "sales-analytics": ("Sales Analytics", "Sales reporting and forecasting for the commercial teams."),
    "marketing-science": ("Marketing Science", "Customer models: churn, lifetime value, campaign uplift."),
    "finance-bi": ("Finance BI", "Revenue, margin and cost reporting for Finance."),
}

# username: (first name, last name, teams, is_staff)
PEOPLE = {
    "admin": ("Ada", "Admin", [], True),
    "alice": ("Alice", "Nguyen", ["data-platform"], False),
    "bob": ("Bob", "Martins", ["sales-analytics"], False),
    "carol": ("Carol", "Okafor", ["marketing-science"], False),
    "dave": ("Dave", "Schmidt", ["finance-bi"], False),
    "erin": ("Erin", "Rossi", [], False),
    "frank": ("Frank", "Li", ["marketing-science"], False),
}


def load():
    teams = {}
    for slug, (name, description) in TEAMS.items():
        teams[slug], _ = Team.objects.update_or_create(
            slug=slug, defaults={"name": name, "description": description, "email": f"{slug}@example.com"}
        )
    users = {}
    User = get_user_model()
    for username, (first, last, team_slugs, is_staff) in PEOPLE.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"},
        )
        user.is_staff = user.is_superuser = is_staff
        if created:
            user.set_password(DEMO_PASSWORD)
        user.save()
        user.teams.set([teams[slug] for slug in team_slugs])
        users[username] = user
    return teams, users
