"""Test files built from the project's real entity facts (the shared supplement file), never invented."""
from __future__ import annotations

import csv
import io
import re
import zipfile

from conftest import MIRROR

SUPPLEMENT = MIRROR / "entities" / "pes_swietokrzyskie_uzupelnienie.csv"
# Headers as an office register writes them; the importer's aliases know every one.
HEADERS = ["Lp.", "Nazwa podmiotu", "Typ podmiotu", "Forma prawna", "Miejscowość", "Gmina", "Powiat", "Źródła"]


def supplement(*ids: str) -> list[dict]:
    with open(SUPPLEMENT, encoding="utf-8", newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    return [rows[i] for i in ids]


def register_rows(*ids: str, blank_type: tuple[str, ...] = ()) -> list[list[str]]:
    """Rows of HEADERS for supplement entities; `blank_type` leaves the type cell empty, as a register may."""
    out = []
    for n, r in enumerate(supplement(*ids), start=1):
        out.append([str(n), r["nazwa"], "" if r["id"] in blank_type else r["typ"], r["forma_prawna"],
                    r["miejscowosc"], r["gmina"], r["powiat"], r["zrodla"]])
    return out


def xlsx_bytes(rows: list[list], headers: list[str] = HEADERS) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Rejestr PES"
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list], headers: list[str] = HEADERS, sep: str = ";", encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


SHEET = "xl/worksheets/sheet1.xml"


def _with_sheet(write) -> bytes:
    """A small real register XLSX with its worksheet written again by `write(zip, head, tail)` (the sheet's
    XML split at </sheetData>); every other member as it was."""
    good = zipfile.ZipFile(io.BytesIO(xlsx_bytes(register_rows("swk-n001"))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in good.infolist():
            if info.filename != SHEET:
                z.writestr(info, good.read(info))
        head, tail = good.read(SHEET).split(b"</sheetData>")
        write(z, head, tail)
    return out.getvalue()


def xlsx_bomb(inflated_bytes: int) -> bytes:
    """A valid-looking XLSX whose one worksheet inflates to `inflated_bytes` of XML: a few hundred kB packed."""
    def write(z, head, tail):
        with z.open(SHEET, "w", force_zip64=True) as fh:
            fh.write(head)
            pad = b"<!--" + b" " * (1 << 20) + b"-->"
            for _ in range(inflated_bytes // len(pad) + 1):
                fh.write(pad)
            fh.write(b"</sheetData>" + tail)
    return _with_sheet(write)


def csrf_token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the form"
    return m.group(1)


def lying_sizes(data: bytes, member: str, size: int) -> bytes:
    """The archive with `member`'s uncompressed size understated as `size` in both of its headers."""
    import struct

    out = bytearray(data)
    name = member.encode()
    for signature, offset, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := out.find(signature, start)) >= 0:
            if out[start + name_at:start + name_at + len(name)] == name:
                struct.pack_into("<I", out, start + offset, size)
            start += 4
    return bytes(out)


def xlsx_with_big_sheet(inflated_bytes: int) -> bytes:
    """An XLSX whose sheet holds `inflated_bytes` of XML padding (written whole, without ZIP64)."""
    return _with_sheet(lambda z, head, tail: z.writestr(
        SHEET, head + b"<!--" + b" " * inflated_bytes + b"-->" + b"</sheetData>" + tail))
