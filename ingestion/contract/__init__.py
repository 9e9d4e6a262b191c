"""The returns contract as data: sources, columns, labels and rules."""

from ingestion.contract.sources import SOURCES, Column, Source

__all__ = ["SOURCES", "Column", "Source"]
