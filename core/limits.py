"""Every form says each problem once (``StatedLimits.full_clean``).

Every text field states its limit: "Up to N characters." under it, a ``maxlength`` on it (which
``static/portal/limits.js`` turns into a live count, so a long paste is kept whole and the server says what is
too long), and a field error with the text kept when it is over. Nothing a person types is cut short.
"""

import functools

from django import forms
from django.core.validators import MaxLengthValidator

# A long text (a description, a model card section) with no column limit of its own: about 25 pages.
LONG_TEXT_LIMIT = 50_000


def limit_note(limit):
    return f"Up to {limit:,} characters."


def state_limits(form):
    for field in form.fields.values():
        if not isinstance(field, forms.CharField) or field.widget.is_hidden:
            continue
        if field.max_length is None:
            if not isinstance(field.widget, forms.Textarea):
                continue
            field.max_length = LONG_TEXT_LIMIT
            field.validators.append(MaxLengthValidator(LONG_TEXT_LIMIT))
        field.widget.attrs["maxlength"] = str(field.max_length)
        note = limit_note(field.max_length)
        help_text = str(field.help_text or "")
        if note not in help_text:
            field.help_text = f"{help_text} {note}".strip()


class StatedLimits:
    """Mixed into every form: states each text field's limit (see the module's docstring), after the form's own
    ``__init__`` has set its help texts (each subclass's ``__init__`` is wrapped; stating twice changes nothing)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        state_limits(self)

    def full_clean(self):
        """One error per field (issue 17): an empty required field failed both Django's "This field is required."
        and the model's own sentence ("Say what is wrong…"); the person reads only the more specific one."""
        super().full_clean()
        for name, errors in list((self._errors or {}).items()):
            if name == forms.forms.NON_FIELD_ERRORS or len(errors) < 2:
                continue
            required = str(self.fields[name].error_messages.get("required", "")) if name in self.fields else ""
            specific = [error for error in errors.as_data() if str(error.message) != required] or errors.as_data()
            self._errors[name] = self.error_class([specific[0]], renderer=self.renderer)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own_init = cls.__dict__.get("__init__")
        if own_init is None:
            return

        @functools.wraps(own_init)
        def __init__(self, *args, **kwargs):
            own_init(self, *args, **kwargs)
            state_limits(self)

        cls.__init__ = __init__
