"""The people around an asset: who answers for it and who hears about it."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.models import Team
from catalog.models import Watch


def team_members(team_id):
    """The condition "is a member of the team", as an indexed subquery: joining the membership table under an OR
    made PostgreSQL hash every user and membership (17 ms at 5,000 people, on every alert)."""
    return Q(pk__in=Team.members.through.objects.filter(team_id=team_id).values("user_id"))


def answerable_for(asset):
    """The people who answer for an asset: its owner and its team's members (not its watchers)."""
    who = Q(pk=asset.owner_id) if asset.owner_id else Q(pk__in=[])
    if asset.team_id:
        who |= team_members(asset.team_id)
    return get_user_model().objects.filter(who, is_active=True)


def audience_of(asset):
    """Everyone who should hear about an asset: its owner, the members of its team and its watchers."""
    who = Q(pk__in=Watch.objects.filter(asset=asset).values("user_id"))
    if asset.owner_id:
        who |= Q(pk=asset.owner_id)
    if asset.team_id:
        who |= team_members(asset.team_id)
    return get_user_model().objects.filter(who, is_active=True)
