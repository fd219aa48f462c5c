"""Sources beyond CSV, Parquet and JSON lines: Excel workbooks (a sheet by name or number),
decimal-comma CSVs, files whose name says nothing (Segment's ``.gz`` logs), and the message for
a file whose content is not what its name says. Expected rows are the fixtures', by hand."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from retention_kit import ParamsError, SourceError, load_events
from retention_kit.data import fetch
from retention_kit.data.sources import read_excel

from tests.factories import make_params


def _book(path, sheets: dict[str, list[list]]) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)


ORDERS = [["customer", "ordered_at", "amount"],
          ["c1", dt.datetime(2024, 3, 1, 10, 0), 12.5],
          [None, None, None],  # an empty row in the middle: skipped
          ["c2", dt.datetime(2024, 3, 2, 9, 30), 3],
          [17, dt.datetime(2024, 3, 2, 11, 0), 7.25]]  # a numeric id among text ids


def test_excel_sheet_by_name_and_number(tmp_path):
    book = tmp_path / "orders.xlsx"
    _book(book, {"notes": [["read me"], ["nothing here"]], "orders": ORDERS})
    data = dict(user="customer", time="ordered_at", event={"constant": "purchase"}, revenue="amount")
    for sheet in ("orders", 1):
        log = load_events(make_params(source={"path": str(book), "sheet": sheet}, **data))
        ev = fetch(log.events, sort=["ts"])
        assert ev["user_id"].tolist() == ["c1", "c2", "17"]  # numbers and text in one column: text
        assert ev["ts"].dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2024-03-01 10:00", "2024-03-02 09:30", "2024-03-02 11:00"]
        assert ev["revenue"].tolist() == [12.5, 3.0, 7.25]
    # without a sheet: the first one, which here holds no such columns
    with pytest.raises(Exception, match="column 'customer' .* not found"):
        load_events(make_params(source=str(book), **data))


def test_excel_sheet_errors(tmp_path):
    book = tmp_path / "orders.xlsx"
    _book(book, {"notes": [["x"]], "orders": ORDERS})
    with pytest.raises(SourceError, match=r"orders.xlsx has no sheet 'order'; did you mean 'orders'\? sheets are: notes, orders"):
        load_events(make_params(source={"path": str(book), "sheet": "order"}))
    with pytest.raises(SourceError, match=r"orders.xlsx has 2 sheet\(s\) \(notes, orders\); sheet 2 counts from 0"):
        load_events(make_params(source={"path": str(book), "sheet": 2}))
    csv = tmp_path / "e.csv"
    csv.write_text("user_id,timestamp,event\nu,2024-03-01,x\n")
    with pytest.raises(SourceError, match="'sheet' is for Excel workbooks, but the source is read as csv; remove sheet"):
        load_events(make_params(source={"path": str(csv), "sheet": "orders"}))
    with pytest.raises(ParamsError, match="sheet is a sheet's name, or its number counting from 0"):
        make_params(source={"path": str(book), "sheet": -1})


def test_excel_columns_types_and_header(tmp_path):
    book = tmp_path / "b.xlsx"
    rows = [["id", None, "id", "n"]] + [[f"u{i}", "x", i, i] for i in range(5)] + [["u9", "x", "nine", 2.5]]
    _book(book, {"s": rows})
    t = read_excel([str(book)], None, "here")
    assert t.column_names == ["id", "column_2", "id_2", "n"]
    assert t.schema.field("id_2").type == pa.string()  # 0..4 and 'nine'
    assert t.column("id_2").to_pylist() == ["0", "1", "2", "3", "4", "nine"]
    assert t.schema.field("n").type == pa.float64()  # whole numbers and 2.5
    assert t.column("n").to_pylist() == [0, 1, 2, 3, 4, 2.5]


def test_excel_chunks_agree_on_types(tmp_path, monkeypatch):
    # a column of whole numbers in the first chunk and text in the second becomes text throughout
    from retention_kit.data import sources

    monkeypatch.setattr(sources, "_EXCEL_CHUNK", 3)
    book = tmp_path / "b.xlsx"
    _book(book, {"s": [["v", "w"], [1, None], [2, None], [3, None], ["four", 1.5], [5, 2]]})
    t = read_excel([str(book)], None, "here")
    assert t.column("v").to_pylist() == ["1", "2", "3", "four", "5"]
    assert t.column("w").to_pylist() == [None, None, None, 1.5, 2.0]


def test_decimal_comma_csv(tmp_path):
    src = tmp_path / "de.csv"
    src.write_text("user_id;timestamp;event;price\nu1;2024-03-01 10:00:00;buy;11,77\nu2;2024-03-02 10:00:00;buy;3,5\n")
    with pytest.raises(SourceError, match=r"Could not convert string '11,77' to DOUBLE.*the file writes decimals with a "
                                          r"comma: set source: \{path: \.\.\., decimal: ','\}"):
        load_events(make_params(source=str(src), revenue="price"))
    log = load_events(make_params(source={"path": str(src), "decimal": ","}, revenue="price"))
    assert fetch(log.events, sort=["ts"])["revenue"].tolist() == [11.77, 3.5]


def test_decimal_comma_with_thousands_points(tmp_path):
    # the reader keeps '1.234,5' as text; the kit reads it as 1234.5
    src = tmp_path / "de.csv"
    src.write_text("user_id;timestamp;event;price\nu1;2024-03-01 10:00:00;buy;1.234,5\nu2;2024-03-02 10:00:00;buy;2,25\n")
    log = load_events(make_params(source={"path": str(src), "decimal": ","}, revenue="price"))
    assert fetch(log.events, sort=["ts"])["revenue"].tolist() == [1234.5, 2.25]
    with pytest.raises(ParamsError, match="decimal and delimiter are both ','"):
        make_params(source={"path": str(src), "decimal": ",", "delimiter": ","})
    with pytest.raises(SourceError, match="'decimal' is for CSV files, but the source is read as parquet"):
        pq.write_table(pa.table({"a": [1]}), tmp_path / "x.parquet")
        load_events(make_params(source={"path": str(tmp_path / "x.parquet"), "decimal": ","}))


def _workbook_bytes(tmp_path) -> bytes:
    _book(tmp_path / "w.xlsx", {"s": [["user_id", "timestamp", "event"], ["u", "2024-03-01", "x"]]})
    return (tmp_path / "w.xlsx").read_bytes()


@pytest.mark.parametrize("name, content, says", [
    ("events.csv", "xlsx", "events.csv holds an Excel workbook, but its name says csv; rename it to events.xlsx or set "
                           "source.format: xlsx"),
    ("events.csv", "parquet", "events.csv holds a Parquet file, but its name says csv; rename it to events.parquet"),
    ("events.csv", "json", "events.csv holds JSON, but its name says csv; rename it to events.jsonl or set source.format: json"),
    ("events.txt", "json", "events.txt holds JSON, but its name says csv"),
    ("events.jsonl", "csv", "events.jsonl holds CSV text, but its name says json; rename it to events.csv"),
    ("events.json", "zip", "events.json holds a zip archive, but its name says json; unzip it"),
    ("events.csv", "gzip", "events.csv holds gzip-compressed data, but its name says csv; name it events.csv.gz"),
    ("events.parquet", "xlsx", "events.parquet holds an Excel workbook, but its name says parquet"),
])
def test_a_file_whose_content_is_not_what_its_name_says(tmp_path, name, content, says):
    csv = "user_id,timestamp,event\nu,2024-03-01,x\n"
    blob = {"xlsx": lambda: _workbook_bytes(tmp_path),
            "parquet": lambda: _parquet_bytes(),
            "json": lambda: b'{"user_id": "u", "timestamp": "2024-03-01", "event": "x"}\n',
            "csv": lambda: csv.encode(),
            "zip": lambda: _zip_bytes(),
            "gzip": lambda: gzip.compress(csv.encode())}[content]()
    (tmp_path / name).write_bytes(blob)
    with pytest.raises(SourceError) as e:
        load_events(make_params(source=str(tmp_path / name)))
    assert says in str(e.value)


def test_an_explicit_format_is_checked_too(tmp_path):
    pq.write_table(pa.table({"a": [1]}), tmp_path / "x.dat")
    with pytest.raises(SourceError, match="x.dat holds a Parquet file, but source.format is csv"):
        load_events(make_params(source={"path": str(tmp_path / "x.dat"), "format": "csv"}))


def _parquet_bytes() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"user_id": ["u"], "timestamp": ["2024-03-01"], "event": ["x"]}), buf)
    return buf.getvalue()


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("123_2024-03-01_0#0.json.gz", gzip.compress(b'{"event_type": "x"}\n'))
    return buf.getvalue()


def test_a_folder_of_bare_gz_json_files(tmp_path):
    # Segment's S3 logs are named <id>.gz; their content says JSON lines
    day = tmp_path / "segment-logs" / "src" / "1709251200000"
    day.mkdir(parents=True)
    lines = b'{"userId": "u1", "timestamp": "2024-03-01T10:00:00Z", "event": "open"}\n'
    (day / "a1b2.gz").write_bytes(gzip.compress(lines))
    (day / "c3d4.gz").write_bytes(gzip.compress(lines.replace(b"u1", b"u2")))
    log = load_events(make_params(source=str(tmp_path), user="userId"))
    assert sorted(fetch(log.events)["user_id"]) == ["u1", "u2"]


def test_json_times_with_offsets_are_not_taken_for_local(tmp_path):
    # DuckDB's JSON reader would guess these as naive UTC timestamps; the kit reads them as text
    src = tmp_path / "e.jsonl"
    src.write_text('{"user_id": "u", "timestamp": "2024-03-01T20:00:00Z", "event": "x"}\n'
                   '{"user_id": "u", "timestamp": "2024-03-01T20:00:00+08:00", "event": "y"}\n')
    log = load_events(make_params(source=str(src), timezone="Asia/Shanghai"))
    got = fetch(log.events, sort=["event"])["ts"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert got == ["2024-03-02 04:00", "2024-03-01 20:00"]


def test_a_workbook_is_never_modified(tmp_path):
    book = tmp_path / "orders.xlsx"
    _book(book, {"orders": ORDERS})
    before = book.read_bytes()
    load_events(make_params(source={"path": str(book), "sheet": "orders"}, user="customer", time="ordered_at",
                            event={"constant": "purchase"}))
    assert book.read_bytes() == before
