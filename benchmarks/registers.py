"""Synthetic registers written as an office exports them, for the console's benchmarks: an XLSX sheet, or a
CSV for Polish Excel (semicolons, CRLF, Windows-1250). The rows come from the seeded generator
(geoes.register.synthetic); nothing here invents a real entity."""
from __future__ import annotations

import csv
import io


def office_register(headers: list[str], rows: list[list], fmt: str = "csv") -> bytes:
    """`rows` under `headers` as the bytes of an office file: `xlsx` or `csv` (cp1250, `;`)."""
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Rejestr")
        ws.append(headers)
        for row in rows:
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue().encode("cp1250")
