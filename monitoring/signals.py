"""Signals that other apps listen to, so monitoring never has to import them."""

from django.dispatch import Signal

# What the portal says about an asset's freshness changed. Sent with ``policy`` and ``status_changed``: True when
# the status itself moved (everything downstream inherits it), False when only its words did (a newer update time,
# another probe error). The trust app keeps its stored badges true with it.
freshness_changed = Signal()
