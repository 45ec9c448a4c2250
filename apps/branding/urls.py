"""Mounted at the root of a tenant's host by incentiva/urls_tenants.py: the settings page (owners and admins)
and the two public assets every page of the tenant links (the stylesheet and the logo)."""

from django.urls import path

from apps.branding.views import branding_css, branding_logo, branding_settings

urlpatterns = [
    path("console/branding/", branding_settings, name="branding-settings"),
    path("branding.css", branding_css, name="branding-css"),
    path("branding/logo", branding_logo, name="branding-logo"),
]
