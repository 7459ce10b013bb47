"""A saved results.json read record by record is the run read whole; a broken one fails exactly as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor import results_file
from auditor.app.report import load_results
from auditor.cli import main
from auditor.history import previous_run, store_run
from auditor.render import RenderOptions
from auditor.render.json import JsonRenderer
from auditor.results import RunResult
from auditor.results_file import read_run, streamed_run
from auditor.spool import RecordSpool
from tests.render.synthetic import fleet

RUN = fleet(6)  # every kind of record: passes, findings, errors, waivers


def whole(path: Path) -> RunResult | tuple[str, str]:
    """How the run was read before streaming: the run, or the error's type and message."""
    try:
        return RunResult.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        return type(exc).__name__, str(exc)


def streamed(path: Path) -> RunResult | tuple[str, str]:
    try:
        return read_run(path)
    except (OSError, ValueError, RecursionError) as exc:
        return type(exc).__name__, str(exc)


@pytest.fixture(autouse=True)
def every_file_streams(monkeypatch) -> None:
    monkeypatch.setattr(results_file, "STREAM_ABOVE", 0)  # every file read through the stream, however small
    monkeypatch.setattr(results_file, "CHUNK", 97)  # many buffer ends, inside strings, numbers and keys


def _shapes() -> dict[str, str]:
    """The same run as our renderer writes it, and as other tools might rewrite it."""
    data = json.loads(RUN.to_json())
    reordered = {"records": data.pop("records"), **dict(reversed(list(data.items())))}
    return {
        "as written": RUN.to_json(),
        "minified": json.dumps(data | {"records": reordered["records"]}, separators=(",", ":")),
        "records first, keys reversed": json.dumps(reordered, indent=1),
        "blank lines and tabs": json.dumps(data | {"records": reordered["records"]}, indent="\t \r\n",
                                           separators=(" ,\n", " :\t")),
        "no records": json.dumps({k: v for k, v in data.items()}),
        "empty records": json.dumps(data | {"records": []}),
        "non-ascii escaped": json.dumps(json.loads(RUN.to_json())),
    }


@pytest.mark.parametrize("shape", list(_shapes()))
def test_a_valid_file_in_any_layout_streams_into_a_spool_equal_to_the_whole_read(tmp_path, shape) -> None:
    path = tmp_path / "saved.json"
    path.write_text(_shapes()[shape], encoding="utf-8")
    run = streamed_run(path)  # taken by the stream itself, not by the fallback
    assert isinstance(run.records, RecordSpool) or shape == "no records"
    assert run == whole(path)
    as_read = RunResult.from_json(path.read_text("utf-8"))
    assert JsonRenderer().render(run, RenderOptions()) == JsonRenderer().render(as_read, RenderOptions())


def _broken() -> dict[str, str]:
    text = RUN.to_json()
    data = json.loads(text)
    record = text.index('"company_id"')
    return {
        "cut in a record": text[: len(text) // 2],
        "cut after the records": text[: text.rindex("]")],
        "a comma too many": text.replace('"status": "pass"', '"status": "pass",', 1),
        "a record field of the wrong type": text.replace('"environment": "stage"', '"environment": 7', 1),
        "an unknown status": text.replace('"status": "fail"', '"status": "broken"', 1),
        "a lone surrogate in a record": text[:record] + '"x": "\\ud800", ' + text[record:],
        "another schema": text.replace(data["schema"], "someone-else/9"),
        "no schema": json.dumps({k: v for k, v in data.items() if k != "schema"}),
        "records twice": text[:-2] + ', "records": []\n}',
        "schema twice": text[:-2] + f', "schema": "{data["schema"]}"\n}}',
        "data after the object": text + "\n{}",
        "not an object": json.dumps([data]),
        "a byte-order mark": "\ufeff" + text,
        "nested too deeply": text[:record] + '"x": ' + "[" * 100_000 + "]" * 100_000 + ", " + text[record:],
        "records not a list": json.dumps(data | {"records": {"a": 1}}),
        "NaN as a duration": text.replace('"duration_seconds": null', '"duration_seconds": NaN'),
        "empty": "",
        "blank": "  \n ",
    }


@pytest.mark.parametrize("case", list(_broken()))
def test_a_broken_or_odd_file_is_read_exactly_as_before(tmp_path, case) -> None:
    path = tmp_path / "saved.json"
    path.write_text(_broken()[case], encoding="utf-8")
    assert streamed(path) == whole(path)


def test_invalid_utf8_and_a_missing_file_fail_as_before(tmp_path) -> None:
    path = tmp_path / "saved.json"
    path.write_bytes(RUN.to_json().encode("utf-8").replace(b'"tool_version"', b'"tool\xff_version"'))
    assert streamed(path) == whole(path)
    assert streamed(tmp_path / "missing.json") == whole(tmp_path / "missing.json")


def test_every_truncation_and_many_one_character_edits_read_as_before(tmp_path) -> None:
    text = json.dumps(json.loads(fleet(1).to_json()), indent=1)
    path = tmp_path / "saved.json"
    cases = [text[:n] for n in range(0, len(text), max(1, len(text) // 300))]
    cases += [text[:n] + c + text[n + 1:] for n in range(0, len(text), max(1, len(text) // 120)) for c in '{]:,"0\\']
    for case in cases:
        path.write_text(case, encoding="utf-8")
        assert streamed(path) == whole(path), case


def test_the_commands_read_saved_runs_through_the_stream(tmp_path, capsys) -> None:
    path = tmp_path / "saved.json"
    path.write_text(RUN.to_json(), encoding="utf-8")
    assert isinstance(load_results(path).records, RecordSpool)  # audit report, audit diff
    store_run(tmp_path / "history", RUN)
    earlier = previous_run(tmp_path / "history")  # audit run --history: the previous run
    assert earlier is not None and isinstance(earlier.records, RecordSpool) and earlier == RUN


@pytest.mark.parametrize("formats", ["json,html,csv,junit", "table"])
def test_audit_report_writes_the_same_files_from_a_streamed_run(tmp_path, monkeypatch, capsys, formats) -> None:
    path = tmp_path / "saved.json"
    path.write_text(RUN.to_json(), encoding="utf-8")
    outputs = {}
    for name, threshold in (("streamed", 0), ("whole", 10**12)):
        monkeypatch.setattr(results_file, "STREAM_ABOVE", threshold)
        folder = tmp_path / name
        code = main(["report", str(path), "--format", formats, "--output", str(folder)])
        printed = capsys.readouterr().out.replace(str(folder), "<out>")
        outputs[name] = (code, printed, {p.name: p.read_bytes() for p in sorted(folder.glob("*"))})
    assert outputs["streamed"] == outputs["whole"]
