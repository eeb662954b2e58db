"""Why a freshness check failed, in words every reader may see, and the technical detail for those who may not.

A probe's exception (``HTTPSConnectionPool(host=…): Max retries exceeded … NameResolutionError …``, a driver's error
quoting the query or the values it choked on) is for the asset's owners, its team and staff. Everyone else reads a
plain reason made from the kind of failure alone: "could not reach api.example.com: the name does not resolve",
"the connection was refused", "timed out after 5 s", "the table x does not exist", "authentication failed". The
message of a driver is never quoted in a plain reason: it can carry the values of the rows (issue 14).

Secrets in URLs (a ``?token=``, a password before the host) are masked everywhere, detail included.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

MASK = "•••"
SECRET_NAME = re.compile(r"token|secret|passw|pwd|key|sig|auth|credential|session|code", re.IGNORECASE)
# ``name=value`` pairs whose name sounds like a secret, wherever they appear in a text (a URL, an error message).
SECRET_PAIR = re.compile(
    r"(?P<name>[\w.-]*(?:token|secret|passw|pwd|key|sig|auth|credential|session|code)[\w.-]*)=(?P<value>[^&\s'\")]+)",
    re.IGNORECASE,
)


def mask_url(url):
    """``url`` with the values of secret-sounding query parameters and any password before the host masked."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_text(url)
    # The raw pairs, not decoded and encoded again: the address reads as it was typed, secrets aside.
    query = "&".join(
        f"{pair.split('=', 1)[0]}={MASK}" if "=" in pair and SECRET_NAME.search(pair.split("=", 1)[0]) else pair
        for pair in parts.query.split("&")
    )
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}" if ":" in userinfo else netloc
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_text(text, url=""):
    """``text`` (a probe's technical detail) with ``url`` and any secret-sounding ``name=value`` masked."""
    if not text:
        return text
    if url:
        text = text.replace(url, mask_url(url))
    text = re.sub(r"://([^/\s:@]+):([^/\s@]+)@", rf"://\1:{MASK}@", text)
    return SECRET_PAIR.sub(_masked_pair, text)


def _masked_pair(match):
    # A sentence's punctuation after the value ("…?token=abc: refused") is the sentence's, not the secret's.
    trailing = re.search(r"[.,:;]*$", match["value"]).group()
    return f"{match['name']}={MASK}{trailing}"


def host_of(policy):
    """The host a probe talks to, as readers may see it ("" when there is none, e.g. a file)."""
    if policy.url:
        try:
            return urlsplit(policy.url).hostname or ""
        except ValueError:
            return ""
    dataset = getattr(policy.asset, "dataset", None) if policy.asset_id else None
    source = getattr(dataset, "source", None)
    connection = getattr(source, "connection", None) or {}
    return str(connection.get("host", "")) if isinstance(connection, dict) else ""


def _chain(exc):
    """``exc`` and every exception behind it: causes, contexts, and those requests and urllib3 wrap in args."""
    seen, todo = [], [exc]
    while todo:
        item = todo.pop(0)
        if item is None or any(item is known for known in seen) or len(seen) > 20:
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None)]
        todo += [arg for arg in getattr(item, "args", ()) if isinstance(arg, BaseException)]
    return [item for item in seen if isinstance(item, BaseException)]


def _codes(chain):
    """SQLSTATE codes (psycopg2) and error numbers (PyMySQL) found in the chain."""
    codes = set()
    for item in chain:
        if getattr(item, "pgcode", None):
            codes.add(item.pgcode)
        args = getattr(item, "args", ())
        if len(args) >= 1 and isinstance(args[0], int):
            codes.add(args[0])
    return codes


def _names(chain):
    """The exact class names in the chain (a base class can mislead: urllib3's NewConnectionError is a
    ConnectTimeoutError), and every class name up their hierarchies (for drivers' DatabaseError and the like)."""
    return {type(item).__name__ for item in chain}, {cls.__name__ for item in chain for cls in type(item).__mro__}


# Exact names only: urllib3's NewConnectionError (the refused and unresolvable) derives from ConnectTimeoutError.
TIMEOUTS = ("Timeout", "ConnectTimeout", "ReadTimeout", "TimeoutError", "ConnectTimeoutError", "ReadTimeoutError",
            "QueryCanceled")  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """A kind of probe failure: how drivers and libraries name it, the words of the technical detail (owners), and
    the plain reason every reader sees (``plain(c)``, ``c`` a ``_Failure``; None: the row names details only).

    It is recognised by any of: a code (PostgreSQL's SQLSTATE as text, MySQL's error number), a two-letter SQLSTATE
    class, an exception class's exact name (``names``) or any name up its hierarchy (``kinds``), words of the
    messages (``phrases``, lower case: SQLite has no codes) or a ``pattern``; ``also`` must hold too when given.
    """

    detail: str
    plain: object = None
    codes: tuple = ()
    classes: tuple = ()
    names: tuple = ()
    kinds: tuple = ()
    phrases: tuple = ()
    pattern: str = ""
    also: object = None

    def holds(self, c):
        found = (
            c.code(*self.codes) or c.has(*self.names) or c.kind(*self.kinds) or c.says(*self.phrases)
            or (self.pattern and c.matches(self.pattern)) or any(code[:2] in self.classes for code in c.sqlstates())
        )  # fmt: skip
        return bool(found) and (self.also is None or self.also(c))


def _where(text):
    return lambda c: text + (f" on {c.host}" if c.host else "")


# The one table of failures, for the plain reasons below and the probes' details (``monitoring.probes``). Order
# matters for plain reasons: the first row that holds names the failure. A detail is looked up by code first, so a
# code listed in a later row (MySQL's 2003 is refused, and also says "connection refused") keeps its own words.
KINDS = [
    Kind("the name does not resolve", lambda c: c.unreachable("the name does not resolve"),
         codes=(2005,), names=("NameResolutionError", "gaierror"),
         phrases=("could not translate host name", "name or service not known", "nodename nor servname",
                  "temporary failure in name resolution", "failed to resolve")),
    Kind("connection refused", lambda c: c.unreachable("the connection was refused"),
         kinds=("ConnectionRefusedError",), phrases=("connection refused", "errno 111")),
    Kind("the TLS certificate was not accepted", lambda c: c.unreachable("its TLS certificate was not accepted"),
         kinds=("SSLError",), phrases=("certificate verify failed",)),
    Kind("no answer within the probe's timeout",
         lambda c: f"timed out after {c.timeout} s" if c.timeout else "timed out",
         codes=("57014", 3024, 1969), names=TIMEOUTS,
         phrases=("timeout expired", "timed out", "interrupted", "canceling statement")),
    Kind("the connection was lost (timed out)", codes=(2013,)),
    Kind("the probe's user may not read the database", _where("permission denied"), codes=(1044,)),
    Kind("the login was refused", _where("authentication failed"), codes=("28P01", "28000", 1045, 1698),
         classes=("28",), phrases=("authentication failed", "access denied", "no password supplied")),
    Kind("the database does not exist", _where("the database does not exist"), codes=("3D000", 1049),
         phrases=("unknown database",), pattern=r"database \S+ does not exist"),
    Kind("the table does not exist or cannot be read",
         lambda c: f"the table {c.table} does not exist" if c.table else "the table does not exist",
         codes=("42P01", 1146), phrases=("no such table",), pattern=r"relation \S+ does not exist"),
    Kind("a column does not exist",
         lambda c: f"a column the check reads does not exist in {c.table}" if c.table else "a column does not exist",
         codes=("42703", 1054), phrases=("no such column",), pattern=r"column \S+ does not exist"),
    Kind("the probe's user may not read the table",
         lambda c: f"permission denied on {c.table}" if c.table else "permission denied",
         codes=("42501", 1142, 1143), phrases=("permission denied",)),
    Kind("the query tried to write, and probes only read", lambda c: "the check tried to change data; checks only read",
         codes=("25006", 1792), phrases=("read-only transaction", "read only transaction")),
    Kind("the server could not be reached", codes=(2003,)),
    Kind("the file is not a SQLite database", phrases=("not a database",)),
    Kind("the database is locked", phrases=("database is locked",)),
    Kind("the connection failed", lambda c: c.unreachable("the connection failed"),
         classes=("08",), kinds=("ConnectionError", "NewConnectionError", "OperationalError", "OSError"),
         also=lambda c: c.says("connect", "connection", "server closed", "unreachable", "no route")),
    Kind("a value could not be compared or converted", classes=("22",)),
    Kind("the query is not valid for this table", classes=("42",)),
    Kind("the server is out of resources", classes=("53",)),
    Kind("the server stopped the query", classes=("57",)),
    Kind("the query failed", lambda c: "the database refused the query", kinds=("DatabaseError", "Error"),
         also=lambda c: c.sql),
]  # fmt: skip


def driver_detail(exc, fallback="the query failed"):
    """The technical detail of a driver's error in the table's words, never the driver's message (it can quote the
    rows): "the table does not exist or cannot be read (SQLSTATE 42P01)", "… (error 1146)", "… (no such table)"."""
    failure = _Failure([exc], str(exc), None)
    pgcode = getattr(exc, "pgcode", None)
    code = pgcode or next(iter(sorted(code for code in failure.codes if isinstance(code, int))), None)
    suffix = f" (SQLSTATE {code})" if pgcode else f" (error {code})" if code is not None else ""
    if code is not None:
        kind = next((kind for kind in KINDS if code in kind.codes), None)
        kind = kind or next((kind for kind in KINDS if pgcode and pgcode[:2] in kind.classes), None)
        if kind is not None:
            return kind.detail + suffix
    for kind in KINDS:
        phrase = next((phrase for phrase in kind.phrases if phrase in failure.text), None)
        if phrase is not None:
            return kind.detail if phrase in kind.detail else f"{kind.detail} ({phrase})"
    return fallback + suffix


class _Failure:
    def __init__(self, chain, text, policy):
        (self.names, self.kinds), self.codes, self.text = _names(chain), _codes(chain), text.lower()
        self.timeout = getattr(policy, "timeout_seconds", None)
        self.host = host_of(policy) if policy is not None else ""
        self.sql = bool(policy is not None and getattr(policy, "timestamp_column", ""))
        dataset = getattr(policy.asset, "dataset", None) if policy is not None and policy.asset_id else None
        self.table = getattr(dataset, "qualified_name", "") if self.sql else ""

    def has(self, *names):
        return any(name in self.names for name in names)

    def kind(self, *names):
        return any(name in self.kinds for name in names)

    def code(self, *codes):
        return any(code in self.codes for code in codes)

    def sqlstates(self):
        return [code for code in self.codes if isinstance(code, str)]

    def matches(self, pattern):
        return re.search(pattern, self.text) is not None

    def says(self, *phrases):
        return any(phrase in self.text for phrase in phrases)

    def unreachable(self, why):
        return f"could not reach {self.host}: {why}" if self.host else f"could not reach the source: {why}"


def _classify(chain, text, policy):
    failure = _Failure(chain, text, policy)
    for kind in KINDS:
        if kind.plain is not None and kind.holds(failure):
            return kind.plain(failure)
    return None


def plain_reason(exc, policy=None):
    """A reason anyone may read for the failure ``exc`` of ``policy``'s probe, from the kind of exception alone.

    A ``ProbeFailed`` the portal raised itself (no file at a path, a missing JSON field, an HTTP status) already is
    a plain sentence and is kept, secrets masked; one wrapping a driver's or a library's error is named by that."""
    from monitoring.probes import ProbeFailed

    chain = _chain(exc)
    if any(not isinstance(item, ProbeFailed) for item in chain):
        found = _classify(chain, " ".join(str(item) for item in chain), policy)
        if found:
            return found
    if isinstance(exc, ProbeFailed):
        # "https://host/path?token=… answered HTTP 500." names the host only: the address is for owners.
        url, text = getattr(policy, "url", ""), str(exc)
        return mask_text(text.replace(url, host_of(policy) or "the address") if url else text)
    return "the check failed with an unexpected error"


def plain_from_text(text, policy=None):
    """The plain reason of a stored technical detail, for failures recorded before plain reasons were kept."""
    if not text:
        return ""
    return _classify([], text, policy) or "the check failed; its owners can see the detail"


def timed_out(policy):
    """The plain reason of a probe that gave no answer within its timeout."""
    return f"timed out after {policy.timeout_seconds} s"
