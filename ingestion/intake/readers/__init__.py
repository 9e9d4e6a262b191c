"""Readers: turn a return file (csv, xlsx) into rows of Unicode NFC text and typed values."""
