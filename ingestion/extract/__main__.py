"""`python -m ingestion.extract`: build the extract of a period, write it, optionally deliver it.

Prints the workbook's path on stdout (and nothing else there), so `make run` can show
it; what was delivered goes to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ingestion.extract import (
    CHANNELS,
    DeliveryError,
    ExtractDataError,
    build_extract,
    configured_channels,
    default_folder,
    deliver,
    latest_period,
    write_extract,
)
from ingestion.platform.warehouse import WarehouseUnreachable, check_reachable, warehouse_url


def main(argv: list[str] | None = None) -> int:
    from ingestion.platform import envhelp

    parser = envhelp.parser(
        "python -m ingestion.extract",
        "Bảng chỉ tiêu cho Thanh tra tỉnh / indicator extract for the provincial Inspectorate.\n"
        "Prints the workbook's path on stdout; steps and deliveries go to stderr.",
        envhelp.EXTRACT,
    )
    parser.add_argument("--period", help="kỳ / period code, e.g. 2024-Y, 2025-9M, 2023-2026 (default: latest)")
    parser.add_argument(
        "--out", type=Path, help="thư mục ghi / output folder (default: $PCTN_OUTPUT_DIR/extract/<period>)"
    )
    parser.add_argument(
        "--deliver",
        nargs="*",
        choices=CHANNELS,
        metavar="CHANNEL",
        help="gửi qua kênh / deliver on these channels (none given: PCTN_DELIVERY_CHANNELS)",
    )
    parser.add_argument("--resend", action="store_true", help="gửi lại / resend what was delivered before")
    args = parser.parse_args(argv)

    def step(text: str) -> None:
        print(f"{text} …", file=sys.stderr, flush=True)

    try:
        url = warehouse_url()
        check_reachable(url)
        step("tìm kỳ / finding the period" if not args.period else f"kỳ / period {args.period}")
        period = args.period or latest_period(url)
        step(f"lập bảng chỉ tiêu / building the extract of {period} from the marts")
        extract_id = build_extract(url, period)
    except (ExtractDataError, WarehouseUnreachable) as exc:
        print(f"lỗi / error: {exc}", file=sys.stderr)
        return 2
    out = args.out or default_folder(period)
    step(f"ghi tệp / writing the workbook and CSVs to {out}")
    workbook = write_extract(url, extract_id, out)
    print(workbook)

    if args.deliver is not None:
        channels = args.deliver or configured_channels()
        for channel in channels:
            step(f"gửi / delivering on {channel}")
            try:
                result = deliver(url, extract_id, channel, resend=args.resend)
            except DeliveryError as exc:
                print(f"{channel}: {exc}", file=sys.stderr)
                return 1
            what = {"delivered": "đã gửi / delivered", "skipped": "đã gửi trước đó / already delivered"}[result.outcome]
            print(f"{channel}: {what} -> {result.recipient}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
