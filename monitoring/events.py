"""Monitoring's domain events, sent by the functions that write freshness (``monitoring.freshness``), so monitoring
never has to import the apps that listen (trust keeps its stored badges true with them)."""

from django.dispatch import Signal

# What the portal says about some assets' freshness changed, sent once per batch of checks with two lists of
# policies: ``moved``, whose status itself moved (everything downstream inherits it), and ``reworded``, whose status
# is the same in new words (a newer update time, another probe error).
freshness_changed = Signal()

# asset_ids: the freshness policies of these assets were created, changed or deleted.
policy_changed = Signal()
