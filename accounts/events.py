"""The accounts' domain event. People are written by Django's own code (the admin, ``createsuperuser``, password
changes) as much as by ours, so this one event is sent from the user model's row signals, in ``AccountsConfig``:
the one place the portal listens to rows rather than to its own writers.
"""

from django.dispatch import Signal

# user_ids, removed: these people changed (name, active) or, with ``removed``, are about to be deleted.
people_changed = Signal()


def user_saved(sender, instance, created, update_fields=None, **kwargs):
    # Signing in saves ``last_login`` alone; a new person owns nothing yet.
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    people_changed.send(sender=sender, user_ids=[instance.pk], removed=False)


def user_deleting(sender, instance, **kwargs):
    people_changed.send(sender=sender, user_ids=[instance.pk], removed=True)
