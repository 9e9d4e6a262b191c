"""Keyed pseudonyms for personal data (names of accused and defendants).

The contract forbids names in clear anywhere in the warehouse. An HMAC-SHA256
with a secret key from the environment (`PCTN_PSEUDONYM_KEY`) gives the same
pseudonym for the same normalised name in every return, so distinct persons can be
counted and followed from *bị can* to *bị cáo*, while nobody without the key can
test a guessed name against the warehouse.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from ingestion.settings import env_name, settings

KEY_ENV = env_name("pseudonym_key")


class MissingKeyError(RuntimeError):
    pass


def pseudonym_key() -> bytes:
    key = settings().pseudonym_key
    if not key:
        raise MissingKeyError(
            f"{KEY_ENV} is not set: personal data cannot be pseudonymised, so no return is processed. "
            "Set it to a long random secret (and keep it: changing it changes every pseudonym). "
            "`make run` creates a local demo key in .data/pseudonym.key."
        )
    return key.encode("utf-8")


def pseudonymise(names: list[str], key: bytes) -> list[str]:
    # hmac.digest is the one-shot C path: the same HMAC-SHA256 as hmac.new(...).hexdigest()[:32]
    return [hmac.digest(key, name.encode("utf-8"), "sha256")[:16].hex() for name in names]


def ensure_demo_key(path: Path) -> str:
    """Create (once) and return a local key for the demo; never used when the env sets one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()
