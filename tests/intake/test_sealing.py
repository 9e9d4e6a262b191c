"""Sealed originals: exact bytes back with the key, nothing readable or forgeable without it."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from ingestion.intake.sealing import seal, unseal


def test_round_trip_and_no_clear_text():
    data = "Họ tên bị can: Nguyễn Văn Thử".encode() * 50
    blob = seal(data, b"key-1")
    assert unseal(blob, b"key-1") == data
    assert "Nguyễn".encode() not in blob
    assert seal(data, b"key-1") != blob  # a fresh nonce each time


def test_wrong_key_or_tampering_fails():
    blob = seal(b"original bytes", b"key-1")
    with pytest.raises(InvalidTag):
        unseal(blob, b"key-2")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(InvalidTag):
        unseal(tampered, b"key-1")
    with pytest.raises(ValueError, match="header"):
        unseal(b"plain bytes", b"key-1")
