"""The OpenAPI document's paths as callers type them.

``portal.urls`` enters each app's API routes behind a zero-width lookahead on their first segments
(``^(?=(?:models|model-versions)(?:[/.]|$))``). It matches no text, but drf-spectacular reads every group of a
route's regex as a path parameter and would document ``/api/v1/{var}models/``: the lookahead is left out here.
"""

import re

from drf_spectacular import generators

ENTRY = re.compile(r"\(\?=\(\?:[^()]*\)\(\?:\[/\.\]\|\$\)\)")


class EndpointEnumerator(generators.EndpointEnumerator):
    def get_path_from_regex(self, path_regex):
        return super().get_path_from_regex(ENTRY.sub("", path_regex))


class SchemaGenerator(generators.SchemaGenerator):
    endpoint_inspector_cls = EndpointEnumerator
