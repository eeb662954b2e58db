"""The scale and speed benchmark: ``make bench`` (see ``bench/run.py`` and ``bench/RESULTS.md``)."""
