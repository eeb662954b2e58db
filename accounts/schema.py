from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerOrTokenScheme(OpenApiAuthenticationExtension):
    """Documents our token authentication in the OpenAPI schema as an HTTP bearer scheme."""

    target_class = "accounts.authentication.BearerOrTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from your profile page. `Token <key>` is accepted too.",
        }
