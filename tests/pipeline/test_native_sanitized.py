"""The C module under AddressSanitizer and UndefinedBehaviorSanitizer.

The module reads untrusted bytes (any OCDS file a user ingests), so it is built a second time with
both sanitizers and given the real samples, odd and mutated lines, truncations and the C merge's
own input; any out-of-bounds read or write, use after free or undefined behaviour aborts the run.
The differential tests (test_native.py) then say the answers are right; this says the reading is
clean.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "mutualise" / "pipeline" / "_native.c"

RUN = r"""
import importlib.util, random, sys
spec = importlib.util.spec_from_file_location("mutualise.pipeline._native", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
sys.modules["mutualise.pipeline._native"] = module  # the sanitized build, for native.py too

import orjson
from tests.pipeline import test_native as cases

lines = cases.SAMPLE_LINES + cases.ODD_LINES
chance = random.Random(11)
mutated = []
for _ in range(4000):
    line = bytearray(chance.choice(lines))
    for _ in range(chance.randint(1, 4)):
        if not line:
            break
        position = chance.randrange(len(line))
        if chance.random() < 0.3:
            del line[position:]  # a cut line
        else:
            line[position] = chance.choice(b'{}[]",:\\0123456789eE.-+ntfu\x00\x80\xc3\xed\xf4\xff')
    mutated.append(bytes(line))
for text in lines + mutated:
    module.canonical(text)
    module.examine_block(text + b"\n", "sanitized.jsonl", 0, 1)
for start in range(0, len(mutated), 500):
    module.examine_block(b"\n".join(mutated[start:start + 500]), "sanitized.jsonl", 0, 1)
module.examine_block(b"[" * 5000 + b"]" * 5000, "deep.jsonl", 0, 1)
module.examine_block(b'{"a":"' + b"\\u" * 100 + b'"}', "escapes.jsonl", 0, 1)

releases = []
for line in cases.SAMPLE_LINES:
    value = orjson.loads(line)
    for item in value.get("releases", [value]) if isinstance(value, dict) else []:
        if isinstance(item, dict) and cases.parse_micros(item.get("date")) is not None and item.get("ocid"):
            releases.append(item)
fast, slow = cases.compiled_both_ways(releases)
assert fast == slow
print("clean")
"""


def _libasan() -> str | None:
    if shutil.which("gcc") is None:
        return None
    found = subprocess.run(
        ["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return found if found and os.path.isabs(found) and Path(found).exists() else None


@pytest.mark.skipif(_libasan() is None, reason="needs gcc and its AddressSanitizer runtime")
def test_the_c_module_reads_hostile_input_cleanly_under_sanitizers(tmp_path: Path) -> None:
    library = tmp_path / f"_native{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run(
        [
            "gcc",
            "-shared",
            "-fPIC",
            "-O1",
            "-g",
            "-std=c11",
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
            f"-I{sysconfig.get_paths()['include']}",
            str(SOURCE),
            "-o",
            str(library),
        ],
        check=True,
        capture_output=True,
    )
    script = tmp_path / "run.py"
    script.write_text(RUN)
    environment = {
        **os.environ,
        "LD_PRELOAD": str(_libasan()),
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
        "PYTHONMALLOC": "malloc",  # every object from malloc, so that ASan guards its edges
        "UBSAN_OPTIONS": "print_stacktrace=1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    result = subprocess.run(
        [sys.executable, str(script), str(library)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0 and "clean" in result.stdout, result.stderr[-4000:]
