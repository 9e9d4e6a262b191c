"""Identity of a return from its file name: `<source>_<unit>_<period>[_v<N>].<ext>`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingestion.intake.problems import Code, Rejection

_NAME = re.compile(
    r"^(?P<source>[a-z]+)_(?P<unit>[A-Z]+-[A-Z0-9-]+)_(?P<period>\d{4}-[A-Z0-9]+)(?:_v(?P<version>\d+))?\.(?P<ext>xlsx|csv)$"
)
PERIOD_PATTERN = re.compile(r"^\d{4}-(Q[1-4]|6M|9M|Y)$")


@dataclass(frozen=True)
class ReturnName:
    source: str
    unit_code: str
    period_code: str
    version: int
    extension: str


def parse_file_name(name: str) -> ReturnName:
    """Split a file name into its parts, or raise a `Rejection` saying what is wrong."""
    match = _NAME.match(name)
    if match is None:
        raise Rejection(
            Code.BAD_FILE_NAME,
            f"Tên tệp '{name}' không đúng mẫu <nguồn>_<mã đơn vị>_<kỳ>[_v<N>].xlsx|csv",
            f"File name '{name}' does not follow <source>_<unit_code>_<period>[_v<N>].xlsx|csv",
        )
    return ReturnName(
        source=match["source"],
        unit_code=match["unit"],
        period_code=match["period"],
        version=int(match["version"] or 1),
        extension=match["ext"],
    )
