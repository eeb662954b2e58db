"""The scale and speed benchmark, ``make bench``: ``generate/`` writes the data set, ``run.py`` starts the servers
and drives the run, ``operations.py`` lists what is measured, ``measure.py`` times it and ``report.py`` sums it up
(the findings are in ``RESULTS.md``)."""
