"""Tenant back office for users (unfold theme), with their second factors shown read-only, and the tenant's
Google / Microsoft sign-in apps (allauth's SocialApp rows live in each tenant's schema)."""

from __future__ import annotations

from allauth.socialaccount import admin as socialaccount_admin
from allauth.socialaccount.models import SocialApp
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from apps.accounts.models import User
from apps.accounts.selectors import user_mfa_enabled, user_recovery_codes_unused_count
from apps.accounts.services import social_app_secret_seal


class UserAdmin(DjangoUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "role", "is_active", "date_joined")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("two_factor", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "preferred_language")}),
        (_("Access"), {"fields": ("role", "is_active", "is_staff", "is_superuser", "groups")}),
        (_("Two-factor authentication"), {"fields": ("two_factor",)}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "role", "password1", "password2")}),)

    @admin.display(description=_("Two-factor authentication"))
    def two_factor(self, user: User) -> str:
        if not user.pk or not user_mfa_enabled(user=user):
            return gettext("Off")
        unused = user_recovery_codes_unused_count(user=user)
        if unused is None:
            return gettext("On (authenticator app)")
        return gettext("On (authenticator app); %(count)d unused recovery codes") % {"count": unused}


admin.site.register(User, UserAdmin)


class SocialAppForm(socialaccount_admin.SocialAppForm):
    """allauth's form, with a write-only secret: never shown again, kept when left blank, encrypted when saved."""

    secret = forms.CharField(label=_("Secret key"), required=False, strip=True,
                             widget=forms.PasswordInput(render_value=False),
                             help_text=_("Leave blank to keep the stored secret."))

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret", "")
        if not secret and self.instance.pk:
            return self.instance.secret
        return social_app_secret_seal(secret=secret)


class SocialAppAdmin(socialaccount_admin.SocialAppAdmin, ModelAdmin):
    """The tenant's own OAuth client for Google or Microsoft sign-in (client id, secret, settings such as
    ``{"tenant": "<azure tenant id>", "verified_email": ["example.com"]}`` for Microsoft)."""

    form = SocialAppForm


# allauth registers a plain ModelAdmin for SocialApp; swap it for the themed one with the same form.
admin.site.unregister(SocialApp)
admin.site.register(SocialApp, SocialAppAdmin)
