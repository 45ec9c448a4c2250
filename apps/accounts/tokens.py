"""JWTs bound to the tenant that issued them: the ``tenant`` claim holds the schema of the issuing host."""

from __future__ import annotations

from typing import Any

from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

TENANT_CLAIM = "tenant"


class TenantRefreshToken(RefreshToken):
    """A refresh token that carries the current schema from birth, so the outstanding-token record, the access
    token derived from it and any rotation all keep the claim."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.token is None:
            self.payload[TENANT_CLAIM] = connection.schema_name
