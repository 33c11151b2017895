"""Hostile files through the real commands: each is refused or quarantined with a clear one-line
reason, in bounded memory, and nothing is lost, half-written or written outside the warehouse.

The corpus is made under tmp_path at test time. Memory is measured in a child process (its own
peak RSS, and its workers'), the rest runs the CLI in-process.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import orjson
import pytest
from typer.testing import CliRunner

from mutualise.cli import app
from mutualise.pipeline.registers.formats import CHARITY_KEYS, COMPANIES_HOUSE_COLUMNS

runner = CliRunner()
RELEASE = {"ocid": "ocds-h-1", "id": "1", "date": "2025-01-01T00:00:00Z", "tag": ["tender"]}
MB = 1 << 20
# Runs the CLI and prints its peak RSS (and its worker processes') at exit.
PEAK_RUNNER = """
import atexit, resource, sys
def report():
    peak = max(resource.getrusage(who).ru_maxrss
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    sys.stderr.write(f"\\nPEAK_RSS_KB={peak}\\n")
atexit.register(report)
from mutualise.cli import app
app(sys.argv[1:], prog_name="mutualise")
"""


def release(number: int) -> bytes:
    return orjson.dumps({**RELEASE, "id": str(number)}) + b"\n"


def ingest(tmp_path: Path, *paths: Path) -> tuple[int, str]:
    warehouse = tmp_path / "warehouse"
    result = runner.invoke(
        app, ["ingest", "--ingest-only", "--warehouse", str(warehouse), *map(str, paths)]
    )
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def table(tmp_path: Path, folder: str, columns: str) -> list[tuple]:
    files = sorted((tmp_path / "warehouse" / "raw" / folder).glob("*.parquet"))
    if not files:
        return []
    listed = ", ".join(f"'{path}'" for path in files)
    query = f"SELECT {columns} FROM read_parquet([{listed}]) ORDER BY ALL"
    return duckdb.sql(query).fetchall()


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def peak_mb(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RUNNER, *args], capture_output=True, text=True, timeout=300
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("PEAK_RSS_KB="))
    return int(line.split("=")[1]) / 1024, done


def tree(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


# -- OCDS files: compressed containers -------------------------------------------------------------
def test_truncated_gzip_keeps_what_was_read_and_says_it_was_cut(tmp_path: Path) -> None:
    whole = gzip.compress(b"".join(release(n) for n in range(2000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    code, output = ingest(tmp_path, path)
    assert code == 1
    assert error_lines(output) == [
        next(x for x in error_lines(output) if "ends early (truncated?)" in x)
    ]
    kept = table(tmp_path, "releases", "release_id")
    assert 0 < len(kept) < 2000  # the releases before the cut are in, nothing after
    reasons = [row[0] for row in table(tmp_path, "quarantine", "reason")]
    assert any("truncated" in reason for reason in reasons)


def test_files_that_are_not_what_their_name_says_are_refused_and_the_rest_ingested(
    tmp_path: Path,
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "not.json.gz").write_bytes(b"hello, not gzip")
    (tmp_path / "in" / "empty.zip").write_bytes(b"")
    (tmp_path / "in" / "good.jsonl").write_bytes(release(1) + release(2))
    code, output = ingest(tmp_path, tmp_path / "in")
    assert code == 1
    problems = error_lines(output)
    assert len(problems) == 2
    assert any("not.json.gz" in x and "Not a gzipped file" in x for x in problems)
    assert any("empty.zip" in x and "not a zip file" in x for x in problems)
    assert table(tmp_path, "releases", "release_id") == [("1",), ("2",)]


def test_zip_path_traversal_members_are_refused_and_nothing_is_written_outside(
    tmp_path: Path,
) -> None:
    outside_before = tree(tmp_path.parent)
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../escaped.json", release(1))
        archive.writestr("/absolute/escaped.json", release(2))
        archive.writestr("C:/windows/escaped.json", release(3))
        archive.writestr("inside/fine.json", release(4))
    code, output = ingest(tmp_path, path)
    assert code == 1
    assert sum("unsafe member name" in x for x in error_lines(output)) == 3
    assert table(tmp_path, "releases", "release_id") == [("4",)]
    new = tree(tmp_path.parent) - outside_before
    assert all(name.startswith(tmp_path.name + "/") for name in new), new
    assert not Path("/absolute/escaped.json").exists()


def zip_bomb(path: Path, inflated_bytes: int) -> None:
    """A member of `inflated_bytes` spaces, written in 1 MB steps (never held whole)."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("bomb.json", "w", force_zip64=True) as member,
    ):
        for _ in range(inflated_bytes // MB):
            member.write(b" " * MB)


def test_zip_bomb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    zip_bomb(path, 64 * MB)
    assert path.stat().st_size < MB  # more than 64 times smaller than what it inflates to
    (tmp_path / "good.jsonl").write_bytes(release(1))
    code, output = ingest(tmp_path, path, tmp_path / "good.jsonl")
    assert code == 1
    [problem] = error_lines(output)
    assert "bomb.json" in problem and "zip bomb" in problem
    assert table(tmp_path, "releases", "release_id") == [("1",)]


@pytest.mark.slow
def test_gigabyte_zip_bomb_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    zip_bomb(path, 1100 * MB)
    baseline, _ = peak_mb("--help")
    peak, done = peak_mb("ingest", "--ingest-only", "--warehouse", str(tmp_path / "w"), str(path))
    assert done.returncode == 1 and "zip bomb" in done.stderr and "Traceback" not in done.stderr
    assert peak - baseline < 200, (peak, baseline)


def test_gzip_bigger_than_the_whole_file_limit_is_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast variant of the gzip bomb below: past the limit, the rest is streamed, whole."""
    from mutualise.pipeline import jsonio

    monkeypatch.setattr(jsonio, "WHOLE_FILE_LIMIT", 64 * 1024)
    releases = [{**RELEASE, "id": str(n), "padding": "x" * 200} for n in range(2000)]
    package = orjson.dumps({"version": "1.1", "releases": releases}, option=orjson.OPT_INDENT_2)
    path = tmp_path / "package.json.gz"
    path.write_bytes(gzip.compress(package))
    found = list(jsonio.iter_values(path))
    assert [value[1]["releases"][0]["id"] for value in found] == [str(n) for n in range(2000)]


@pytest.mark.slow
def test_gzip_bomb_is_streamed_not_read_into_memory(tmp_path: Path) -> None:
    """No size is known before a gzip file is read: at most the whole-file limit is held."""
    path = tmp_path / "bomb.json.gz"
    with gzip.open(path, "wb", compresslevel=9) as stream:
        stream.write(b"[")
        for _ in range(300):
            stream.write(b" " * MB)
    baseline, _ = peak_mb("--help")
    peak, done = peak_mb("ingest", "--ingest-only", "--warehouse", str(tmp_path / "w"), str(path))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "malformed_json" in done.stdout
    assert peak - baseline < 700, (peak, baseline)  # the 256 MB limit, not the 300 MB file


# -- OCDS files: what is inside ----------------------------------------------------------------------
def test_deeply_nested_json_is_quarantined_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    (tmp_path / "objects.json").write_bytes(b'{"a":' * 100_000)
    lines = release(1) + b"[" * 100_000 + b"]" * 100_000 + b"\n" + release(2)
    # 600 levels parse (orjson reads 1024) but are too deep to store (orjson writes 255).
    deep_release = release(3)[:-2] + b', "x": ' + b'{"a": ' * 600 + b"1" + b"}" * 601
    (tmp_path / "lines.jsonl").write_bytes(lines + deep_release + b"\n")
    code, output = ingest(tmp_path, tmp_path)
    assert code == 0, output
    assert table(tmp_path, "releases", "release_id") == [("1",), ("2",)]
    reasons = table(tmp_path, "quarantine", "source_file, reason")
    assert len(reasons) == 4
    assert any("deep.json" in f and "nested too deeply" in r for f, r in reasons)
    assert any("lines.jsonl" in f and "nested too deeply to store" in r for f, r in reasons)


def long_line_file(path: Path, line_bytes: int) -> None:
    with path.open("wb") as handle:
        handle.write(release(1))
        handle.write(b'{"ocid": "ocds-h-2", "description": "')  # never closed
        for _ in range(line_bytes // MB):
            handle.write(b"a" * MB)
        handle.write(b"\n")
        handle.write(release(3))


def test_a_long_broken_line_is_quarantined_and_the_lines_after_it_kept(tmp_path: Path) -> None:
    long_line_file(tmp_path / "long.jsonl", 20 * MB)
    code, output = ingest(tmp_path, tmp_path / "long.jsonl")
    assert code == 0, output
    assert table(tmp_path, "releases", "release_id") == [("1",), ("3",)]
    [(line, raw)] = table(tmp_path, "quarantine", "line, raw")
    assert line == 2 and len(raw) <= 300


@pytest.mark.slow
def test_a_100_mb_line_needs_bounded_memory(tmp_path: Path) -> None:
    long_line_file(tmp_path / "long.jsonl", 100 * MB)
    baseline, _ = peak_mb("--help")
    peak, done = peak_mb(
        "ingest", "--ingest-only", "--warehouse", str(tmp_path / "w"), str(tmp_path / "long.jsonl")
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert peak - baseline < 450, (peak, baseline)  # the line, a copy and a worker's copy


def test_wrong_encodings_are_refused_or_quarantined_never_garbled(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    latin1 = orjson.dumps({**RELEASE, "title": "CAFE"}).replace(b"CAFE", b"caf\xe9")
    (tmp_path / "in" / "latin1.json").write_bytes(latin1 + b"\n" + latin1)
    utf16 = orjson.dumps(RELEASE).decode().encode("utf-16")
    (tmp_path / "in" / "utf16.json").write_bytes(utf16)
    bom = b"\xef\xbb\xbf" + release(7) + release(8)
    (tmp_path / "in" / "bom.jsonl").write_bytes(bom)
    mixed = release(1) + b'{"ocid": "\xc3\x28"}\n' + release(2)
    (tmp_path / "in" / "mixed.jsonl").write_bytes(mixed)
    code, output = ingest(tmp_path, tmp_path / "in")
    assert code == 1
    problems = error_lines(output)
    assert any("latin1.json" in x and "not UTF-8" in x for x in problems)
    assert any("utf16.json" in x and "UTF-16" in x for x in problems)
    assert table(tmp_path, "releases", "release_id") == [("1",), ("2",), ("7",), ("8",)]


def test_nul_bytes_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    nul = release(1) + b'{"ocid": "a\x00b"}\n\x00\x00\x00\n' + release(2)
    (tmp_path / "in" / "nul.jsonl").write_bytes(nul)
    (tmp_path / "in" / "empty.json").write_bytes(b"")
    (tmp_path / "in" / "empty.jsonl.gz").write_bytes(gzip.compress(b""))
    code, output = ingest(tmp_path, tmp_path / "in")
    assert code == 0, output
    assert table(tmp_path, "releases", "release_id") == [("1",), ("2",)]
    assert [row[0] for row in table(tmp_path, "quarantine", "line")] == [2, 3]


# -- register files ------------------------------------------------------------------------------
def companies_house_file(path: Path, names: list[str]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COMPANIES_HOUSE_COLUMNS)
    for number, name in enumerate(names, start=1):
        writer.writerow([name, f"{number:08d}", *[""] * 53])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def register_state(warehouse: Path, register: str) -> dict[str, str]:
    folder = warehouse / "registers" / register
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def load(register: str, path: Path, warehouse: Path) -> tuple[int, str]:
    result = runner.invoke(
        app, ["registers", "load", register, "--force", "--warehouse", str(warehouse), str(path)]
    )
    assert "Traceback" not in result.output and not isinstance(result.exception, Exception), (
        result.output
    )
    return result.exit_code, result.output


def test_refused_register_files_leave_the_loaded_register_untouched(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    companies_house_file(tmp_path / "good.csv", ["ACME LTD", "BETA CIC"])
    assert load("companies-house", tmp_path / "good.csv", warehouse)[0] == 0
    before = register_state(warehouse, "companies_house")
    header = ",".join(COMPANIES_HOUSE_COLUMNS)
    hostile = {
        "empty.csv": b"",
        "utf16.csv": (header + "\r\n").encode("utf-16"),
        "binary.csv": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "stray-cr.csv": b"Company\rName,x\n",
    }
    for name, data in hostile.items():
        (tmp_path / name).write_bytes(data)
        code, output = load("companies-house", tmp_path / name, warehouse)
        assert code == 2, (name, output)
        assert len([x for x in output.splitlines() if x.startswith("error:")]) == 1, output
        assert register_state(warehouse, "companies_house") == before
    staging = [p for p in (warehouse / "registers").iterdir() if p.is_dir() and p.name[0] == "."]
    assert not staging  # no half-written load left behind


def test_bad_register_rows_are_quarantined_with_reasons(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    companies_house_file(tmp_path / "rows.csv", ["ACME LTD", "CAFE LTD", "=CMD|' /C calc'!A0"])
    data = (tmp_path / "rows.csv").read_bytes().replace(b"CAFE", b"CAF\xc9")
    (tmp_path / "rows.csv").write_bytes(data + b"ONLY,A,FEW,FIELDS\r\n")
    code, output = load("companies-house", tmp_path / "rows.csv", warehouse)
    assert code == 0, output
    quarantine = dict(
        duckdb.sql(
            f"SELECT line, reason FROM '{warehouse}/registers/companies_house/quarantine.parquet'"
        ).fetchall()
    )
    assert "INVALID ENCODING" in quarantine[3] and "malformed line" in quarantine[5]
    loaded = duckdb.sql(
        f"SELECT name FROM '{warehouse}/registers/companies_house/organisations.parquet'"
    ).fetchall()
    assert sorted(loaded) == [("=CMD|' /C calc'!A0",), ("ACME LTD",)]  # as given; exports quote it


def test_a_register_line_longer_than_the_reader_takes_is_refused_whole(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    companies_house_file(tmp_path / "good.csv", ["ACME LTD"])
    assert load("companies-house", tmp_path / "good.csv", warehouse)[0] == 0
    before = register_state(warehouse, "companies_house")
    companies_house_file(tmp_path / "long.csv", ["ACME LTD"])
    long_row = b'"' + b"x" * (3 * MB) + b'",00000009' + b"," * 53 + b"\r\n"
    (tmp_path / "long.csv").write_bytes((tmp_path / "long.csv").read_bytes() + long_row)
    code, output = load("companies-house", tmp_path / "long.csv", warehouse)
    assert code == 1
    [line] = [x for x in output.splitlines() if x.startswith("error:")]
    assert "could not read the companies-house files" in line
    assert register_state(warehouse, "companies_house") == before


def test_truncated_charity_extract_is_refused_in_one_line(tmp_path: Path) -> None:
    first = "{" + ",".join(f'"{key}": "1"' for key in CHARITY_KEYS) + "}"
    path = tmp_path / "publicextract.charity.json"
    path.write_text(f'[{first}, {{"charity_name": "cut', encoding="utf-8")
    code, output = load("charities", path, tmp_path / "warehouse")
    assert code == 1
    [line] = [x for x in output.splitlines() if x.startswith("error:")]
    assert "could not read the charities files" in line
    assert not (tmp_path / "warehouse" / "registers" / "charities").exists()


# -- the CPV list import -------------------------------------------------------------------------------
@pytest.fixture
def rules_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`load-cpv` installs into the rules folder: give it a copy, never the real one."""
    import mutualise.rules as rules
    from mutualise.pipeline import reservation

    folder = tmp_path / "rules"
    shutil.copytree(rules.RULES_DIR, folder)
    monkeypatch.setattr(rules, "RULES_DIR", folder)
    monkeypatch.setattr(reservation, "RULES_DIR", folder)
    reservation.clear_cache()
    yield folder
    reservation.clear_cache()


HEADER = b"code_from,code_to,description,source\n"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "has no CPV rows"),
        (HEADER + b"85323000,,caf\xe9,x\n", "not UTF-8"),
        ("code_from,code_to\n85323000,\n".encode("utf-16"), "not UTF-8"),
        (HEADER + b"85323000\n", "as many columns as the header"),
        (HEADER + b"85323000,,a\x00b,x\n", "NUL"),
        (HEADER + b'85323000,,"' + b"a" * 200_000 + b'",x\n', "not a readable CSV"),
        ("code_from,code_to,description,source\n٨٥٣٢٣٠٠٠,,x,x\n".encode(), "not a CPV code"),
        (HEADER + b"85323000,,x,x\n" * 400_000, "bigger than"),
    ],
)
def test_hostile_cpv_lists_are_refused_and_the_installed_list_kept(
    rules_copy: Path, tmp_path: Path, data: bytes, reason: str
) -> None:
    target = rules_copy / "reservation_cpv_procurement_act_2023_s33.csv"
    before = target.read_bytes()
    source = tmp_path / "list.csv"
    source.write_bytes(data)
    result = runner.invoke(
        app, ["reservation", "load-cpv", "procurement-act-2023-s33", str(source)]
    )
    assert result.exit_code == 2, result.output
    assert reason in result.output and "Traceback" not in result.output
    assert target.read_bytes() == before
    assert not list(rules_copy.glob("*.tmp"))
