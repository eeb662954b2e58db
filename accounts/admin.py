from django.contrib import admin, messages

from accounts.models import ApiToken, GroupMapping, OidcIdentity, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "email"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    search_fields = ["name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username"]
    fields = ["user", "name", "lineage_namespaces", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, key = ApiToken.issue(obj.user, obj.name)
        if obj.lineage_namespaces:
            ApiToken.objects.filter(pk=token.pk).update(lineage_namespaces=obj.lineage_namespaces)
        obj.pk = token.pk
        messages.warning(request, f"Token for {obj.user}: {key} — copy it now, it will not be shown again.")


@admin.register(GroupMapping)
class GroupMappingAdmin(admin.ModelAdmin):
    """Company groups → portal teams and staff, applied at each company sign-in (accounts/oidc.py)."""

    list_display = ["group", "team", "is_staff"]
    list_filter = ["is_staff", "team"]
    search_fields = ["group", "team__name"]
    autocomplete_fields = ["team"]


@admin.register(OidcIdentity)
class OidcIdentityAdmin(admin.ModelAdmin):
    """Who signs in as whom through the company's provider. Deleting a row unlinks the company account (its next
    sign-in links again, or creates an account)."""

    list_display = ["user", "subject", "issuer", "created_at"]
    search_fields = ["user__username", "user__email", "subject"]
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at"]
