"""Credentials never leave the environment: not through `%(VAR)s` interpolation, not in a URL
of the `.cfg`, not in a log line.

A credential variable is one whose name says so (`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
`AWS_ACCESS_KEY_ID`, eodag's `EODAG__<PROVIDER>__AUTH__CREDENTIALS__PASSWORD`, `*_TOKEN`,
`*PASSWORD*`, …) or one listed in `S1TILING_CLOUD_SECRET_VARIABLES` (comma-separated: a
deployment names there every variable its pods get from a Kubernetes Secret; `PREFIX*` names
every variable that starts with PREFIX, as `EODAG__*` for a Secret of eodag settings).

Interpolation skips credential variables (`ini.py`); a URI with user information is refused
(exit 72) without repeating it; and `redact_logging` makes every log record of every logger
(botocore's and s3fs's included) replace the values of the credential variables, and the user
information of URLs, with `***` before any handler sees it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping

__all__ = ["MASK", "has_user_info", "is_credential", "redact", "redact_logging", "secret_values"]

MASK = "***"
#: Extra variable names to treat as credentials (comma-separated), e.g. from a Secret.
EXTRA_VARIABLE = "S1TILING_CLOUD_SECRET_VARIABLES"
_CREDENTIAL_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|CREDENTIAL|ACCESS_KEY|PRIVATE_KEY|API_KEY|APIKEY"
    r"|SESSION|AUTH|COOKIE", re.IGNORECASE)
#: `scheme://user[:password]@host` (the user information of a URL).
_USER_INFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<info>[^/@\s'\"]+)@")
#: Values shorter than this are not masked in logs (they would mask ordinary words).
_MIN_SECRET = 6


def _extra(environ: Mapping[str, str]) -> set[str]:
    return {name.strip().upper() for name in environ.get(EXTRA_VARIABLE, "").split(",") if name.strip()}


def _listed(name: str, listed: set[str]) -> bool:
    """Whether `name` is one of `listed`, where `PREFIX*` stands for every name starting so."""
    name = name.upper()
    return name in listed or any(entry.endswith("*") and name.startswith(entry[:-1])
                                 for entry in listed)


def is_credential(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment variable `name` holds a credential.

    Parameters
    ----------
    name : str
        The variable's name.
    environ : Mapping, optional
        The environment whose `S1TILING_CLOUD_SECRET_VARIABLES` lists more names (exact, or
        `PREFIX*`); default `os.environ`.
    """
    environ = os.environ if environ is None else environ
    return bool(_CREDENTIAL_NAME.search(name)) or _listed(name, _extra(environ))


def secret_values(environ: Mapping[str, str] | None = None) -> set[str]:
    """The values of the credential variables of `environ` (long enough to be told apart)."""
    environ = os.environ if environ is None else environ
    return {value for name, value in environ.items()
            if value and len(value) >= _MIN_SECRET and is_credential(name, environ)}


def has_user_info(value: str) -> bool:
    """Whether `value` holds a URL with user information (`s3://KEY:SECRET@bucket`)."""
    return bool(_USER_INFO.search(value))


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret value and URL user information replaced by `***`."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return _USER_INFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)


class _RedactingFactory:
    """A log record factory that formats the record and masks credentials in it."""

    def __init__(self, base) -> None:
        self.base = base

    def __call__(self, *args, **kwargs) -> logging.LogRecord:
        record = self.base(*args, **kwargs)
        secrets = secret_values()
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format is logging's to report, not ours
            return record
        cleaned = redact(message, secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), secrets)
        return record


def redact_logging() -> None:
    """Mask credentials in every log record from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))
