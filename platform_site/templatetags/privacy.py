"""`{% data_destination "codegen" %}`: one line, on the pages where a student sends data,
saying where it goes (platform_site.privacy.notice), with a link to the privacy notice."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from platform_site.privacy.notice import codegen_recipient, latexocr_recipient

register = template.Library()


@register.simple_tag
def data_destination(tool: str) -> SafeString:
    recipient = codegen_recipient() if tool == "codegen" else latexocr_recipient()
    if recipient.recipient is None:
        sentence = _("Vos PDF restent sur ce site : aucun service extérieur ne les reçoit.")
    else:
        sentence = _("Où vont vos données : %(data)s sont envoyées à %(recipient)s.") % {
            "data": recipient.data,
            "recipient": recipient.recipient,
        }
    return format_html(
        '<p class="muted small data-destination">{} <a href="{}">{}</a></p>',
        sentence,
        reverse("privacy"),
        _("Vos données"),
    )
