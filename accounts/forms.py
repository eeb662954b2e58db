from django import forms

from core.limits import StatedLimits


class TokenForm(StatedLimits, forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'airflow lineage'.")
