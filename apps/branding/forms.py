"""The branding settings form: field types only. What a valid branding is (hex, contrast, logo) is decided by
``services.branding_update``, whose field errors the view puts back on this form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.branding.images import MAX_LOGO_BYTES
from apps.branding.models import Branding

HEX_PATTERN = "#[0-9a-fA-F]{6}"


class BrandingForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"), required=False, max_length=100,
        help_text=_("Shown in the top bar next to the logo. Empty: the workspace's name."))
    primary_color = forms.CharField(
        label=_("Primary colour"), max_length=7,
        help_text=_("#rrggbb. The top bar and buttons; text on it must reach a 4.5:1 contrast."),
        widget=forms.TextInput(attrs={"pattern": HEX_PATTERN, "spellcheck": "false", "autocomplete": "off",
                                      "inputmode": "text", "size": 9}))
    accent_color = forms.CharField(
        label=_("Accent colour"), max_length=7, help_text=_("#rrggbb. Highlights such as earned badges."),
        widget=forms.TextInput(attrs={"pattern": HEX_PATTERN, "spellcheck": "false", "autocomplete": "off",
                                      "inputmode": "text", "size": 9}))
    text_on_primary = forms.ChoiceField(
        label=_("Text on the primary colour"), choices=Branding.TextOnPrimary.choices,
        initial=Branding.TextOnPrimary.AUTO, widget=forms.RadioSelect)
    logo = forms.FileField(
        label=_("Logo"), required=False,
        help_text=_("PNG, JPEG or WebP, %(kb)d KB at most. SVG is not accepted.") % {"kb": MAX_LOGO_BYTES // 1024},
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}))
    logo_remove = forms.BooleanField(label=_("Remove the current logo"), required=False)
