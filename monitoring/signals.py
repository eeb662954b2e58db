"""Signals that other apps listen to, so monitoring never has to import them."""

from django.dispatch import Signal

# What the portal says about some assets' freshness changed, sent once per batch of checks with two lists of
# policies: ``moved``, whose status itself moved (everything downstream inherits it), and ``reworded``, whose status
# is the same in new words (a newer update time, another probe error). The trust app keeps its stored badges true
# with it.
freshness_changed = Signal()
