"""Why a freshness check failed, in words every reader may see, and the technical detail for those who may not.

A probe's exception (``HTTPSConnectionPool(host=…): Max retries exceeded … NameResolutionError …``, a driver's error
quoting the query or the values it choked on) is for the asset's owners, its team and staff. Everyone else reads a
plain reason made from the kind of failure alone: "could not reach api.example.com: the name does not resolve",
"the connection was refused", "timed out after 5 s", "the table x does not exist", "authentication failed". The
message of a driver is never quoted in a plain reason: it can carry the values of the rows (issue 14).

Secrets in URLs (a ``?token=``, a password before the host) are masked everywhere, detail included.
"""

import re
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


# (test, reason): the first whose test holds names the failure. ``c`` is a _Failure.
def _rules():
    return [
        (lambda c: c.has("NameResolutionError", "gaierror") or c.code(2005)
         or c.says("could not translate host name", "name or service not known", "nodename nor servname",
                   "temporary failure in name resolution", "failed to resolve"),
         lambda c: c.unreachable("the name does not resolve")),
        (lambda c: c.kind("ConnectionRefusedError") or c.says("connection refused", "errno 111"),
         lambda c: c.unreachable("the connection was refused")),
        (lambda c: c.kind("SSLError") or c.says("certificate verify failed"),
         lambda c: c.unreachable("its TLS certificate was not accepted")),
        (lambda c: c.has(*TIMEOUTS)
         or c.code("57014", 3024, 1969) or c.says("timeout expired", "timed out", "interrupted", "canceling statement"),
         lambda c: f"timed out after {c.timeout} s" if c.timeout else "timed out"),
        (lambda c: c.code("28P01", "28000", 1045, 1044, 1698) or c.says("authentication failed", "access denied"),
         lambda c: "authentication failed" + (f" on {c.host}" if c.host else "")),
        (lambda c: c.code("3D000", 1049) or c.says("unknown database") or c.matches(r"database \S+ does not exist"),
         lambda c: "the database does not exist" + (f" on {c.host}" if c.host else "")),
        (lambda c: c.code("42P01", 1146) or c.says("no such table") or c.matches(r"relation \S+ does not exist"),
         lambda c: f"the table {c.table} does not exist" if c.table else "the table does not exist"),
        (lambda c: c.code("42703", 1054) or c.says("no such column") or c.matches(r"column \S+ does not exist"),
         lambda c: f"a column the check reads does not exist in {c.table}" if c.table else "a column does not exist"),
        (lambda c: c.code("42501", 1142, 1143) or c.says("permission denied"),
         lambda c: f"permission denied on {c.table}" if c.table else "permission denied"),
        (lambda c: c.code("25006", 1792) or c.says("read-only transaction", "read only transaction"),
         lambda c: "the check tried to change data; checks only read"),
        (lambda c: c.kind("ConnectionError", "NewConnectionError", "OperationalError", "OSError")
         and c.says("connect", "connection", "server closed", "unreachable", "no route"),
         lambda c: c.unreachable("the connection failed")),
        (lambda c: c.kind("DatabaseError", "Error") and c.sql,
         lambda c: "the database refused the query"),
    ]  # fmt: skip


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

    def matches(self, pattern):
        return re.search(pattern, self.text) is not None

    def says(self, *phrases):
        return any(phrase in self.text for phrase in phrases)

    def unreachable(self, why):
        return f"could not reach {self.host}: {why}" if self.host else f"could not reach the source: {why}"


def _classify(chain, text, policy):
    failure = _Failure(chain, text, policy)
    for test, say in _rules():
        if test(failure):
            return say(failure)
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
