"""The OpenAPI document says every answer the API gives: the error statuses every operation can answer are added
here once (drf-spectacular postprocessing hook), with the error body all of them share."""

ERROR = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in a sentence a person can act on."},
        "errors": {"type": "object", "additionalProperties": True, "description": "Field errors by field name."},
    },
    "required": ["detail"],
    "additionalProperties": True,
}
# Every operation: bad input, not signed in, not allowed, not found (or hidden), the body too large, too many
# requests. Some operations answer more (a card's edit conflicts), added by path below.
COMMON = {
    "400": "The request is not valid; `detail` and `errors` say what to change.",
    "401": "No valid API token or session.",
    "403": "Signed in, but not allowed to do this.",
    "404": "Nothing here, or nothing you may see.",
    "409": "The change conflicts with the current state (an edit made since you read, a step not possible now).",
    "413": "The request body is too large.",
    "429": "Too many requests; see Retry-After.",
}
# Operations that read a body: one sent in a content type their parsers do not read (or with none) is refused.
WITH_BODY = {"415": "The body's Content-Type is not one this operation reads (JSON, or the forms it names)."}
BY_PATH = {
    "/card/": {"412": "If-Match names a revision that is no longer the current one.",
               "428": "Send the revision you read (If-Match or `revision`)."},
}  # fmt: skip


# Read-only fields a list may leave out (the dataset list sends columns only with ``?fields=columns``).
OPTIONAL = {"Dataset": ["columns"]}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: document the error answers of every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    for name, fields in OPTIONAL.items():
        if name in schemas and "required" in schemas[name]:
            schemas[name]["required"] = [field for field in schemas[name]["required"] if field not in fields]
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        extra = {code: text for fragment, codes in BY_PATH.items() if fragment in path for code, text in codes.items()}
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            body = WITH_BODY if "requestBody" in operation else {}
            for code, text in {**COMMON, **body, **extra}.items():
                operation["responses"].setdefault(
                    code, {"description": text, "content": {"application/json": {"schema": reference}}}
                )
    return result


def drop_route_lookaheads(endpoints):
    """Preprocessing hook: ``portal.urls`` enters each app's API routes through a zero-width lookahead on their first
    segments, which the schema's path simplifier reads as an unnamed parameter (``/api/v1/{var}models/``). The
    lookahead matches no characters, so the published path is the same without it."""
    return [(path.replace("{var}", ""), *rest) for path, *rest in endpoints]
