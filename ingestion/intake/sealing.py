"""Originals are kept byte for byte, but sealed: AES-256-GCM before they reach the warehouse.

The returns of investigation agencies and courts carry names of accused and
defendants, and the contract says no name is stored in clear anywhere in the
warehouse; it also says the original is archived byte for byte. Sealing keeps
both promises: `registry.file_contents` holds the original encrypted with a key
derived from `PCTN_PSEUDONYM_KEY` (one secret to keep), and `unseal` gives back
the exact bytes, which the SHA-256 in the registry proves.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"PCTN-AESGCM-1:"
NONCE_BYTES = 12


def _key(secret: bytes) -> bytes:
    return hmac.new(secret, b"pctn archive sealing v1", hashlib.sha256).digest()


def seal(data: bytes, secret: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return MAGIC + nonce + AESGCM(_key(secret)).encrypt(nonce, data, MAGIC)


def unseal(blob: bytes, secret: bytes) -> bytes:
    if not blob.startswith(MAGIC):
        raise ValueError("not a sealed original (missing header)")
    body = memoryview(blob)[len(MAGIC) :]  # views, not copies: the blob may be a whole large return
    nonce, ciphertext = bytes(body[:NONCE_BYTES]), body[NONCE_BYTES:]
    return AESGCM(_key(secret)).decrypt(nonce, ciphertext, MAGIC)
