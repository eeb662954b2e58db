import pytest
from django.test import RequestFactory

from core.http import redirect_back, whole_number


@pytest.mark.parametrize(
    "text,expected",
    [("12", 12), (" 7 ", 7), ("", None), ("²", None), ("-3", None), ("1e3", None), ("99999999999999999999", None)],
)
def test_whole_number_accepts_plain_digits_within_the_database_range(text, expected):
    assert whole_number(text) == expected


def test_redirect_back_stays_on_this_site():
    factory = RequestFactory()
    inside = factory.post("/x/", {"next": "/catalog/"})
    outside = factory.post("/x/", {"next": "https://evil.example.com/"})
    assert redirect_back(inside, "/home/")["Location"] == "/catalog/"
    assert redirect_back(outside, "/home/")["Location"] == "/home/"
