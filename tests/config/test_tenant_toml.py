"""The fast reader of plain tenant files is tomllib on its subset, and None (tomllib's turn) everywhere else."""

from __future__ import annotations

import random
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import auditor.config as auditor_config
from auditor import tenant_toml
from tests.faults.fleet import build_fleet

ROOT = Path(__file__).resolve().parents[2]

Pick = Callable[[Sequence[str]], str]

# --- a grammar of tenant-file-like documents: the plain subset, mixed with near misses -------------------------

KEYS = ["company_id", "name", "contact", "account_id", "secret_key", "signing_secret", "stage", "live", "env",
        "file", "tenants", "A-1_b", "1"]
NEAR_KEYS = ['"quoted"', "'literal'", "a.b", "a . b", "ä", "a b", "", '""', "stage.x", "#"]
SAFE_TEXT = ["x", "Acme GmbH", "sk_test_51AbC", " ", "\t", "#", "=", "{", "}", "[", "]", ",", "é", "漢", "😀",
             "\u2028", "\x85", "\xa0"]
RISKY_TEXT = ["\x7f", "\x00", "\x1f", "\x0c", "\x1b", "\r", "\n", "\r\n"]
GOOD_ESCAPES = ["\\n", "\\t", '\\"', "\\\\", "\\b", "\\f", "\\r", "\\u00e9", "\\U0001F600", "\\u0000", "\\U0010FFFF"]
BAD_ESCAPES = ["\\x41", "\\e", "\\u12", "\\uD800", "\\uDFFF", "\\U00110000", "\\U0000D800", "\\ ", "\\", "\\'"]
NEAR_VALUES = ['"""x"""', "'''x'''", '"""', "'''", '""""', "''''", '"a" "b"', '"a"b', "1", "1.5", "true", "[]",
               '["a"]', "1979-05-27", "{}", '{ a = "x", b = "y" }', '{ a = "x", }', "{ a = 1 }", '{ a.b = "x" }',
               '{ "a" = "x" }', "", "x", '"unterminated', "{ a = { b = 'c' } }", "{ a = 'x' ", "{ a = 'x' }}",
               "{\n}", '{ a = """x""" }']
GOOD_HEADERS = ["[[tenants]]", "[[ tenants ]]", "[[\ttenants\t]]", "[tenants.stage]", "[tenants.live]",
                "[ tenants . stage ]", "[\ttenants.live\t]", "[tenants .stage]", "[tenants. live]"]
NEAR_HEADERS = ["[tenants]", "[[tenants.stage]]", "[tenants.other]", "[tenants.stage.x]", "[ [tenants]]",
                "[[tenants] ]", '["tenants".stage]', "[other]", "[[other]]", "[tenants.'stage']", "[tenants.stage",
                "tenants.stage]", "[[tenants]", "[]", "[[]]", "[tenants.]"]
GOOD_TRAILERS = ["", " ", "\t", " # a comment", "#", "# tab\there", " # é 漢", " # ]] = \"'", "  \t"]
NEAR_TRAILERS = ["# \x7f", "# \x00", "# \x0c", "# \r", "  x", " ]", ",", " = 1"]
WS = ["", " ", "\t", "  "]


def weighted(pick: Pick, good: Sequence[str], near: Sequence[str]) -> str:
    """Mostly a plain choice, now and then a near miss (so that many documents stay plain)."""
    return pick(near) if pick(["good"] * 9 + ["near"]) == "near" else pick(good)


def text(pick: Pick, quote: str) -> str:
    good = [t for t in SAFE_TEXT if t != quote] + (GOOD_ESCAPES if quote == '"' else ["\\", "\\n"])
    near = RISKY_TEXT + [quote] + (BAD_ESCAPES if quote == '"' else [])
    return "".join(weighted(pick, good, near) for _ in range(int(pick(["0", "1", "2", "3", "5"]))))


def string(pick: Pick) -> str:
    quote = pick(['"', '"', "'"])
    return quote + text(pick, quote) + quote


def value(pick: Pick) -> str:
    kind = weighted(pick, ["string", "string", "inline"], ["near"])
    if kind == "string":
        return string(pick)
    if kind == "inline":
        return "{" + pick(WS) + pick(["env", "file", "command", "x-1"]) + pick(WS) + "=" + pick(WS) + string(pick) \
            + pick(WS) + "}"
    return pick(NEAR_VALUES)


def line(pick: Pick) -> str:
    kind = pick(["key", "key", "key", "key", "header", "header", "blank", "comment"])
    if kind == "key":
        body = weighted(pick, KEYS, NEAR_KEYS) + pick(WS) + weighted(pick, ["="], [":", "==", ""]) + pick(WS) \
            + value(pick)
    elif kind == "header":
        body = weighted(pick, GOOD_HEADERS, NEAR_HEADERS)
    elif kind == "blank":
        return pick(WS)
    else:
        body = "#" + text(pick, "")
    return pick(WS) + body + weighted(pick, GOOD_TRAILERS, NEAR_TRAILERS)


def document(pick: Pick) -> str:
    start = weighted(pick, ["[[tenants]]\n", "[[tenants]]\r\n", "# fleet\n[[ tenants ]]\n"],
                     ["", "\ufeff[[tenants]]\n", "[tenants.stage]\n", 'company_id = "x"\n', "\ufeff"])
    lines = [line(pick) for _ in range(int(pick(["0", "1", "3", "8", "15", "25"])))]
    ends = [weighted(pick, ["\n", "\n", "\r\n"], ["\r", "\r\r\n", "\n\n", "\x0b"]) for _ in lines]
    return start + "".join(a + b for a, b in zip(lines, ends, strict=True)) + pick(["", "\n", "\r\n"]) \
        if lines else start


# --- the differential check ---------------------------------------------------------------------------------


def compare(doc: str) -> str:
    """Hold the fast reader to tomllib on one document; say which of the three outcomes it was."""
    fast = tenant_toml.loads(doc)
    try:
        expected = tomllib.loads(doc)
    except tomllib.TOMLDecodeError:
        assert fast is None, f"tomllib refuses {doc!r}, the fast reader read {fast!r}"
        return "refused"
    if fast is None:
        return "left to tomllib"
    assert fast == expected, doc
    assert repr(fast) == repr(expected), f"key order differs for {doc!r}"
    return "read"


def picker(choices: bytes) -> Pick:
    """Each choice of the grammar from the next byte (hypothesis shrinks bytes towards the first, plain option)."""
    remaining = iter(choices)
    return lambda options: options[next(remaining, 0) % len(options)]


@settings(max_examples=1500, deadline=None)
@given(st.binary(min_size=50, max_size=1000))
def test_the_fast_reader_is_tomllib_or_none(choices: bytes) -> None:
    """Whenever the fast reader reads a document, tomllib reads the same; whenever tomllib refuses it, so does
    the fast reader (drawing bytes, not one strategy per choice: 1,500 documents in seconds)."""
    compare(document(picker(choices)))


def test_the_grammar_reaches_every_outcome() -> None:
    """The same grammar, drawn from a fixed seed: many documents are read, many refused, some left to tomllib
    (a grammar that only made broken documents would test nothing)."""
    rng = random.Random(20240601)
    outcomes = [compare(document(rng.choice)) for _ in range(3000)]
    counts = {outcome: outcomes.count(outcome) for outcome in set(outcomes)}
    assert counts.get("read", 0) > 300, counts
    assert counts.get("refused", 0) > 300, counts
    assert counts.get("left to tomllib", 0) > 30, counts


# --- near misses, one by one ---------------------------------------------------------------------------------

T = "[[tenants]]\ncompany_id = \"ACME0001\"\n"

NOT_PLAIN = {  # the fast reader leaves these to tomllib, which reads or refuses them
    "an unknown escape": T + 'name = "a\\x41"\n',
    "a short \\u escape": T + 'name = "\\u12"\n',
    "a surrogate \\u escape": T + 'name = "\\uD800"\n',
    "a \\U escape beyond Unicode": T + 'name = "\\U00110000"\n',
    "a backslash before a space": T + 'name = "a\\ b"\n',
    "a multi-line basic string": T + 'name = """x"""\n',
    "a multi-line literal string": T + "name = '''x'''\n",
    "a multi-line basic string spanning lines": T + 'name = """\n[[tenants]]\n"""\n',
    "an empty string then a quote": T + 'name = """\n',
    "an empty literal then a quote": T + "name = '''\n",
    "a CR alone": T + 'name = "x"\r[[tenants]]\ncompany_id = "B"\n',
    "a CR alone in a string": T + 'name = "a\rb"\n',
    "a CR before CRLF": T + 'name = "x"\r\r\n',
    "DEL in a string": T + 'name = "a\x7fb"\n',
    "DEL in a literal string": T + "name = 'a\x7fb'\n",
    "NUL in a string": T + 'name = "a\x00b"\n',
    "a form feed in a string": T + 'name = "a\x0cb"\n',
    "DEL in a comment": T + "# a\x7fb\n",
    "NUL in a comment": T + "# a\x00\n",
    "an escape character in a trailing comment": T + 'name = "x" # \x1b\n',
    "a vertical tab as whitespace": T + 'name =\x0b"x"\n',
    "a key twice": T + 'name = "a"\nname = "b"\n',
    "a key twice in a record": T + '[tenants.stage]\naccount_id = "a"\naccount_id = "a"\n',
    "a record twice in one tenant": T + "[tenants.stage]\n[tenants.live]\n[tenants.stage]\n",
    "a record after a value of its name": T + 'stage = "x"\n[tenants.stage]\n',
    "a record after an inline table of its name": T + 'stage = { env = "X" }\n[tenants.stage]\n',
    "a key/value before any header": 'company_id = "x"\n[[tenants]]\n',
    "a record before any tenant": '[tenants.stage]\n[[tenants]]\ncompany_id = "x"\n',
    "a [tenants] table": '[tenants]\ncompany_id = "x"\n',
    "[tenants] after [[tenants]]": T + "[tenants]\n",
    "an array of records": T + "[[tenants.stage]]\n",
    "another record name": T + "[tenants.other]\n",
    "a quoted header key": T + '["tenants".stage]\n',
    "another table": '[other]\nx = "y"\n',
    "a dotted key": T + 'stage.account_id = "x"\n',
    "a quoted key": T + '"name" = "x"\n',
    "a non-ASCII bare key": T + 'nämе = "x"\n',
    "an inline table of two pairs": T + 'secret_key = { env = "A", file = "b" }\n',
    "an inline table with a trailing comma": T + 'secret_key = { env = "A", }\n',
    "an empty inline table": T + "secret_key = {}\n",
    "a nested inline table": T + "secret_key = { env = { a = 'b' } }\n",
    "an inline table with a dotted key": T + 'secret_key = { a.b = "x" }\n',
    "a number": T + "name = 1\n",
    "a boolean": T + "name = true\n",
    "an array": T + 'name = ["a"]\n',
    "a date": T + "name = 1979-05-27\n",
    "a BOM": "\ufeff" + T,
    "a no-break space as indentation": T + '\xa0name = "x"\n',
    "two values on a line": T + 'name = "a" "b"\n',
    "a missing value": T + "name =\n",
    "an unterminated string": T + 'name = "abc\n',
    "an unterminated header": T + "[tenants.stage\n",
    "a split array header": T + "[ [tenants]]\n",
}


@pytest.mark.parametrize("doc", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_near_misses_are_left_to_tomllib(doc: str) -> None:
    assert tenant_toml.loads(doc) is None
    compare(doc)


PLAIN = {  # read by the fast reader, exactly as tomllib reads them
    "CRLF line endings": T.replace("\n", "\r\n") + '[tenants.stage]\r\naccount_id = "acct_1"\r\n',
    "spaces inside the brackets": '[[ tenants ]]\ncompany_id = "A"\n[ tenants . stage ]\n[\ttenants.live\t]\n',
    "tabs in strings and comments": T + 'name = "a\tb" #\tc\t\ncontact = \'x\ty\'\n',
    "non-ASCII text": T + 'name = "Zürich Verlag 漢字 😀"  # Grüße\ncontact = \'\u2028\x85\'\n',
    "trailing whitespace": T + 'name = "x"  \t\n[tenants.stage]  \n',
    "trailing comments": T + "[tenants.stage] # the stage record\naccount_id = 'a' # ok\n# the end",
    "no final newline": T + 'name = "x"',
    "indented lines": T + '  name = "x"\n\t[tenants.live]\n\taccount_id = "a"\n',
    "no spaces around =": T + 'name="x"\nsecret_key={file="s"}\n',
    "the escapes TOML has": T + 'name = "\\n\\t\\"\\\\\\b\\f\\r \\u00e9 \\U0001F600 \\u0000"\n',
    "a backslash in a literal string": T + "name = 'C:\\path\\n'\n",
    "empty strings": T + "name = \"\"\ncontact = ''\nsecret_key = { env = \"\" }\n",
    "literal strings in an inline table": T + "[tenants.stage]\nsecret_key = { file = 'x' }\n",
    "a quote inside the other quotes": T + "name = \"it's\"\ncontact = '\"x\"'\n",
    "two tenants, each with both records": (T + "[tenants.stage]\n[tenants.live]\n") * 2,
    "a key named stage inside a record": T + '[tenants.stage]\nstage = "x"\n',
    "blank lines and comments only": "\n  \n# a comment\n\t# another\n",
    "nothing": "",
}


@pytest.mark.parametrize("doc", PLAIN.values(), ids=PLAIN.keys())
def test_plain_documents_are_read_as_tomllib_reads_them(doc: str) -> None:
    assert tenant_toml.loads(doc) is not None
    assert compare(doc) == "read"


def test_a_multi_line_string_holding_a_tenant_is_not_read_as_one() -> None:
    doc = T + "name = '''\n[[tenants]]\ncompany_id = \"B\"\n'''\n"
    assert len(tomllib.loads(doc)["tenants"]) == 1
    assert tenant_toml.loads(doc) is None


# --- the files the auditor reads ----------------------------------------------------------------------------


def test_the_fleet_file_is_plain(tmp_path: Path) -> None:
    config, _, _ = build_fleet(tmp_path, 40)
    text = config.read_text()
    fast = tenant_toml.loads(text)
    assert fast is not None
    assert repr(fast) == repr(tomllib.loads(text))
    assert len(fast["tenants"]) == 40


def test_the_sample_tenant_file_is_plain() -> None:
    text = (ROOT / "samples" / "tenants.toml").read_text(encoding="utf-8")
    fast: dict[str, Any] | None = tenant_toml.loads(text)
    assert fast is not None
    assert repr(fast) == repr(tomllib.loads(text))


@pytest.mark.parametrize("parallel_from", [10**12, 0], ids=["whole", "in parts"])
def test_the_loader_reads_a_plain_file_without_tomllib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        parallel_from: int) -> None:
    config, _, _ = build_fleet(tmp_path, 30)
    monkeypatch.setattr(auditor_config, "PARALLEL_FROM", parallel_from)
    with_tomllib = auditor_config.load_tenants(config)

    def no_tomllib(text: str) -> dict[str, Any]:
        raise AssertionError("tomllib read a plain tenant file")

    monkeypatch.setattr(auditor_config.tomllib, "loads", no_tomllib)
    assert auditor_config.load_tenants(config) == with_tomllib


def test_a_file_outside_the_subset_is_still_tomllib_s(tmp_path: Path) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text('[[tenants]]\ncompany_id = "ACME0001"\nname = """Acme"""\n[tenants.stage]\nx = 1\n')
    with pytest.raises(auditor_config.ConfigError, match=r"tenant ACME0001 \(tenants\[0\]\): field stage\.x: "
                                                         r"unknown key"):
        auditor_config.load_tenants(path)
    path.write_text('[[tenants]]\ncompany_id = "ACME0001"\nname = "a\\x"\n')
    with pytest.raises(auditor_config.ConfigError, match=r"not valid TOML: Unescaped '\\' in a string \(at line 3"):
        auditor_config.load_tenants(path)
