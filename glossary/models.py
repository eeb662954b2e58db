"""Business terms: what a word means here, who answers for it, its other names, and what uses it (issue 17).

A term is edited like an asset: by its owner, the owning team and staff (``Term.can_edit``), naming owners under
the catalog's one rule (``catalog.access.ownership_errors``), every change recorded with its author
(``TermChange``, written by ``save_term``, the one writer), and a stale edit refused, never silently overwritten.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from accounts.models import Team
from catalog.assets import free_slug
from catalog.models import Asset, Column
from core.markdown import render_markdown


class Term(models.Model):
    """A business word and its one definition. ``synonyms`` are other words people use for it (one per line)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    definition = models.TextField(help_text="What it means here, in Markdown. Say how it is counted if it is a metric.")
    synonyms = models.TextField(blank=True, help_text="Other words people use for it, one per line.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="glossary_terms"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="glossary_terms")
    assets = models.ManyToManyField(
        Asset, blank=True, related_name="glossary_terms", help_text="Datasets, reports and models that use it."
    )
    columns = models.ManyToManyField(Column, blank=True, related_name="glossary_terms")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            # Names are unique, their slugs need not be ("Net revenue", "Net-revenue"): numbered as assets are.
            self.slug = free_slug("term", self.name, among=Term.objects.all(), max_length=100)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("glossary:term_detail", kwargs={"slug": self.slug})

    @property
    def synonym_list(self):
        return [line.strip() for line in self.synonyms.splitlines() if line.strip()]

    @property
    def plain_definition(self):
        """The definition as plain text, for a hover (``title``) where Markdown cannot render."""
        from django.utils.html import strip_tags

        return " ".join(strip_tags(render_markdown(self.definition)).split())

    def can_edit(self, user):
        """The owner, members of the owning team and staff; nobody else (the same rule as assets)."""
        if not user.is_authenticated:
            return False
        if user.is_staff or self.owner_id == user.pk:
            return True
        return self.team_id is not None and self.team.members.filter(pk=user.pk).exists()


class TermChange(models.Model):
    """One edit of a term: who, when, and each changed field's value before and after."""

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created = models.BooleanField(default=False)
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.term} changed by {self.actor} at {self.created_at:%Y-%m-%d %H:%M}"
