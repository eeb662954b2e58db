"""The shape of the generated company, shared by the sections: how big it is at full scale, and its domains.

Every dataset belongs to a domain, a block of ``DOMAIN_SIZE`` consecutive datasets owned by one team; a handful
of "core" hub datasets (the first ``len(HUB_DOMAINS)``) feed many domains.
"""

# Row counts at ``--scale full`` (factor 1.0), as the issue asks for.
FULL = {
    "teams": 500,
    "users": 5_000,
    "tags": 120,
    "sources": 2_000,
    "datasets": 100_000,
    "reports": 5_000,
    "pipelines": 3_000,
    "models": 10_000,
    "versions": 50_000,
    "edges": 1_000_000,
    "policies": 10_000,
    "checks": 2_000_000,
    "issues": 50_000,
    "predictions": 10_000_000,  # logged by the one model in use that is monitored (issue 19)
    "predictions_per_day": 1_000_000,  # of them, in the last day: the monitoring job's window
}
DOMAIN_SIZE = 200
# How many domains each core hub feeds at full scale; the count of hubs is fixed so every scale has hubs.
HUB_DOMAINS = [40, 25, 15, 10, 8, 6, 5, 4, 3, 2]

DOMAINS = [
    "sales", "finance", "marketing", "logistics", "support", "hr", "risk", "product", "growth", "billing",
    "inventory", "pricing", "fraud", "payments", "web", "mobile", "crm", "supply", "legal", "security",
]  # fmt: skip
ENTITIES = [
    "orders", "customers", "invoices", "payments", "sessions", "events", "shipments", "products", "accounts",
    "tickets", "refunds", "subscriptions", "leads", "campaigns", "clicks", "returns", "contracts", "claims",
    "transactions", "employees", "suppliers", "stores", "carts", "reviews",
]  # fmt: skip


def domain_of_dataset(n):
    return n // DOMAIN_SIZE


def team_of_domain(gen, domain):
    return domain % gen.counts["teams"]
