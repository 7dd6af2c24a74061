"""Production refuses what only a demo may do: generate a key, or run on a default secret.

Every place that would generate a key calls :func:`refuse_generated` first, and every
process checks :func:`refuse_defaults` as it starts, so a production pod with a missing
Secret exits at once with one line naming the setting, instead of running on a key that no
other pod knows (cases nobody can verify) or on a secret everyone knows.
"""

from __future__ import annotations

from dozor.errors import UserError
from dozor.settings import Settings

#: Secrets whose default values are published with the code (the embedded dev stack's).
_DEFAULT_SECRETS = {"s3_secret_key": "dozor-dev-secret"}


class ProductionRefusal(UserError):
    """A production process would generate a key or use a default secret."""


def refuse_generated(settings: Settings, what: str, setting: str) -> None:
    if settings.env == "production":
        raise ProductionRefusal(
            f"DOZOR_ENV=production: {what} would be generated; provide it with {setting}"
        )


def refuse_defaults(settings: Settings) -> None:
    if settings.env != "production":
        return
    for name, default in _DEFAULT_SECRETS.items():
        if getattr(settings, name).get_secret_value() == default:
            raise ProductionRefusal(
                f"DOZOR_ENV=production: DOZOR_{name.upper()} is the published default; "
                "set a secret of your own"
            )
