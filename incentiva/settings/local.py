"""Development: the embedded servers, DEBUG on, mail to the console."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")
# Links in e-mails point at the development server's port.
TENANT_URL_PORT = env("TENANT_URL_PORT", default="8000")
