"""Many people at once (issue 18), for ``locust``: signed-in readers browsing and writers changing things.

Run by ``bench.load`` (``python -m bench --only load``), which writes the plan this file reads (``LOAD_PLAN``: a
JSON file with each person's session cookie, the pages and what each writer may change) and reads back what the
writers say they wrote (``LOAD_RESULT``), to compare with the database.

Readers (``Reader``) browse the pages a reader opens most: home, the catalog list, a report, search, a model, the
freshness board and the inbox, each request named after its page in locust's statistics. Writers (``Writer``) file
data issues through the form, save their model's card through its form, and send heartbeat pings, each write
carrying this run's mark so that it can be found again. A write counts as done when the portal said so (the form's
redirect, the ping's 200); everything sent is counted too, so a write in flight when the run ended is told apart
from a lost one.
"""

import itertools
import json
import os
import random
from collections import Counter

from locust import HttpUser, between, events, task
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bench.load import card_form, csrf_token

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115 (read once, at import)

# What the writers say: per kind of write, the marks of those the portal acknowledged, and how many were sent.
DONE = {"issue": [], "card": [], "ping": []}
SENT = Counter()
_numbers = itertools.count(1)


def _think():
    low, high = PLAN["think_seconds"]
    return between(low, high)


class Person(HttpUser):
    abstract = True
    people = ()

    def on_start(self):
        number = next(_numbers)
        self.person = self.people[number % len(self.people)]
        name, value = self.person["cookie"].split("=", 1)
        self.client.cookies.set(name, value)
        # As a browser does: a page asked on a kept-alive connection the server has just closed (gunicorn keeps an
        # idle one 2 s, people think longer) is asked again once on a new one. Writes (POST) are never repeated.
        retry = Retry(total=1, connect=1, read=1, status=0, allowed_methods=["GET"], raise_on_status=False)
        self.client.mount("http://", HTTPAdapter(max_retries=retry))


class Reader(Person):
    fixed_count = PLAN["readers"]
    wait_time = _think()
    people = PLAN["reader_people"]

    def _page(self, name, path):
        self.client.get(path, name=name, headers={"Accept": "text/html"})

    @task(3)
    def home(self):
        self._page("home", "/")

    @task(2)
    def catalog_list(self):
        self._page("catalog list", "/catalog/")

    @task(2)
    def report(self):
        self._page("report page", random.choice(PLAN["reports"]))

    @task(2)
    def search(self):
        self._page("search", "/search/?q=" + random.choice(PLAN["queries"]))

    @task(2)
    def model(self):
        self._page("model page", random.choice(PLAN["models"]))

    @task(1)
    def freshness_board(self):
        self._page("freshness board", "/monitoring/")

    @task(1)
    def inbox(self):
        self._page("inbox", "/inbox/")


class Writer(Person):
    fixed_count = PLAN["writers"]
    wait_time = _think()
    people = PLAN["writer_people"]

    def _mark(self, kind):
        SENT[kind] += 1
        return f"{PLAN['mark']} {self.person['username']} {kind} {SENT[kind]}"

    @task(2)
    def file_issue(self):
        form = self.client.get(self.person["issue_form"], name="issue form")
        token = csrf_token(form.text)
        if not token:
            return
        title = self._mark("issue")
        data = {
            "csrfmiddlewaretoken": token,
            "title": title,
            "description": "Totals differ from the finance pack (load test).",
            "category": "wrong_values",
            "severity": "minor",
        }
        with self.client.post(
            self.person["issue_form"], data=data, name="file an issue", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code == 302:
                DONE["issue"].append(title)
            else:
                response.failure(f"issue not filed: {response.status_code}")

    @task(2)
    def save_card(self):
        form = self.client.get(self.person["card_form"], name="card form")
        data = card_form(form.text, "")
        if data is None:
            return
        data["comments"] = text = self._mark("card")
        with self.client.post(
            self.person["card_form"], data=data, name="save a card", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code == 302:
                DONE["card"].append(text)
            else:
                response.failure(f"card not saved: {response.status_code}")

    @task(3)
    def ping(self):
        run_id = self._mark("ping").replace(" ", "-")
        with self.client.get(
            f"{self.person['ping']}?rid={run_id}", name="heartbeat ping", catch_response=True
        ) as response:
            if response.status_code == 200:
                DONE["ping"].append(run_id)
            else:
                response.failure(f"ping not taken: {response.status_code}")


@events.quitting.add_listener
def _write_result(environment, **kwargs):
    with open(os.environ["LOAD_RESULT"], "w") as out:
        json.dump({"done": DONE, "sent": dict(SENT)}, out)
