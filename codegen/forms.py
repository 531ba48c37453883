"""The question form of the page when JavaScript is off (the JSON API applies the same limits)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _


class QuestionForm(forms.Form):
    message = forms.CharField(
        label=_("Votre problème"),
        help_text=_("Décrivez ce que le programme doit faire, avec un exemple si possible."),
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read at each form, not at import, so the setting can change without a restart of
        # the class (and in tests).
        limit = settings.CODEGEN_MAX_MESSAGE_CHARS
        field = self.fields["message"]
        field.validators = [*field.validators, MaxLengthValidator(limit)]
        field.widget.attrs["maxlength"] = str(limit)
