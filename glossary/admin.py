from django.contrib import admin

from glossary.models import Term, TermChange


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "team", "updated_at"]
    search_fields = ["name", "synonyms", "definition"]
    autocomplete_fields = ["assets"]
    filter_horizontal = ["columns"]


@admin.register(TermChange)
class TermChangeAdmin(admin.ModelAdmin):
    list_display = ["term", "actor", "created_at"]
    readonly_fields = ["term", "actor", "created", "changes", "created_at"]
