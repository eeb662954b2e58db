# One date and time format for the whole site (issue 17): a date reads "6 Dec 2026", a moment "6 Dec 2026, 21:19"
# in the viewer's time zone. Django's English locale would otherwise print "Dec. 6, 2026, 9:19 p.m." beside the
# ISO-like strings some templates wrote by hand. Relative times ("3 h ago") come from the `when` filter
# (core/templatetags/portal_tags.py), which puts this absolute form in the hover text.
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
