"""A hostile review of the fast tenant-file reader: near misses held to tomllib, and the load in parts to the whole.

Exactness here means: equal dicts, the same key order at every level, the same type of every value, and ``None``
(never a dict) wherever tomllib raises.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import auditor.config as config
from auditor import tenant_toml
from auditor.config import ConfigError, load_tenants

SK = "sk_test_5" + "1AbCdEfGhIjKlMnO" + "s" * 30
WH = "whsec_" + "w" * 32

HANG_GUARD = 600  # seconds: only a reader that hangs (or is quadratic) reaches it


def same_shape(fast: Any, expected: Any) -> None:
    assert type(fast) is type(expected), (fast, expected)
    if isinstance(fast, dict):
        assert list(fast) == list(expected)
        for key in fast:
            same_shape(fast[key], expected[key])
    elif isinstance(fast, list):
        assert len(fast) == len(expected)
        for a, b in zip(fast, expected, strict=True):
            same_shape(a, b)
    else:
        assert fast == expected


def compare(doc: str) -> str:
    fast = tenant_toml.loads(doc)
    try:
        expected = tomllib.loads(doc)
    except tomllib.TOMLDecodeError:
        assert fast is None, f"tomllib refuses {doc!r}, the fast reader read {fast!r}"
        return "refused"
    if fast is None:
        return "left"
    assert fast == expected, doc
    same_shape(fast, expected)
    return "read"


# --- hand-picked near misses ------------------------------------------------------------------------------------

T = "[[tenants]]\n"
ESCAPES = ["\\b", "\\t", "\\n", "\\f", "\\r", '\\"', "\\\\", "\\u00e9", "\\u00E9", "\\uABCD", "\\uabcd", "\\U0001F600",
           "\\U0001f600", "\\u0000", "\\U00000000", "\\U0010FFFF", "\\U0010ffff", "\\uD7FF", "\\uE000", "\\uFFFF",
           # refused or outside the subset:
           "\\x41", "\\e", "\\a", "\\v", "\\0", "\\/", "\\'", "\\ ", "\\\t", "\\u", "\\u1", "\\u12", "\\u123",
           "\\u12G4", "\\uD800", "\\uDBFF", "\\uDC00", "\\udfff", "\\U0000D800", "\\U0000dfff", "\\U00110000",
           "\\UFFFFFFFF", "\\U0010FFF", "\\U+0041", "\\u+041", "\\u_041", "\\u０041", "\\N{BULLET}", "\\"]
CASES = [
    *(T + f'name = "a{e}b"\n' for e in ESCAPES),
    *(T + f'name = "{e}"\n' for e in ESCAPES),
    *(T + f"stage = {{ env = \"{e}\" }}\n" for e in ESCAPES),
    *(T + f"name = '{e}'\n" for e in ESCAPES),
    T + 'name = "a\\"\n',  # the escaped quote is no end: unterminated
    T + 'name = "a\\\\"\n', T + 'name = "a\\\\\\"\n', T + 'name = "\\\\\\\\"\n', T + 'name = "a\\" # "\n',
    T + 'name = "a\\"b" # c\n', T + 'name = "a\\\\" # "\n', T + 'name = "\\"" "\n', T + "name = 'a\\'\n",
    T + "name = 'a\\' # '\n", T + "name = 'a\\\\'\n",
    T + 'name = "a # b"\n', T + "name = 'a # b' # c\n", T + 'name = "it\'s"\n', T + "name = 'say \"hi\"'\n",
    T + 'name = "a"#\n', T + 'name = "a"# "\n', T + "name = ''#'\n", T + 'name = ""#"\n', T + "name = ''\n",
    T + 'name = ""\n', T + 'name = """"""\n', T + "name = ''''''\n", T + 'name = """a"""\n', T + 'name = ""a\n',
    T + "name = ''a\n", T + 'name = "a""\n', T + "name = 'a''\n", T + 'name = "a" "b"\n',
    # whitespace TOML does not have
    *(T + f'name{ws}= "a"\n' for ws in ["\u00a0", "\u3000", "\u2028", "\x85", "\ufeff", "\u2009", "\x0b", "\x0c"]),
    *(T + f'name ={ws}"a"\n' for ws in ["\u00a0", "\u3000", "\u2028", "\x85", "\ufeff"]),
    *(T + f'name = "a"{ws}\n' for ws in ["\u00a0", "\u3000", "\u2028", "\x85", "\ufeff", "\x0b"]),
    *(f"{ws}[[tenants]]\n" for ws in ["\u00a0", "\u3000", "\u2028", "\x85", "\ufeff", "\x0b"]),
    *(f"[[tenants]]{ws}\n" for ws in ["\u00a0", "\u3000", "\u2028", "\x85", "\ufeff"]),
    *(f"[{ws}tenants.stage]\n" for ws in ["\u00a0", "\u3000"]),
    *(T + f'name = "a{c}b"\n' for c in ["\u00a0", "\u3000", "\u2028", "\u2029", "\x85", "\ufeff", "\t", "\x00", "\x7f",
                                         "\x1f", "\x08", "\r", "\x80", "\x9f", "\ud7ff", "\U0010ffff"]),
    *(T + f"# a{c}b\n" for c in ["\u2028", "\x85", "\ufeff", "\t", "\x00", "\x7f", "\x1f", "\r", "\x9f"]),
    *(T + f"name = 'a{c}b'\n" for c in ["\t", "\x00", "\x7f", "\r", "\x85", "\u2028"]),
    "\ufeff" + T, "\ufeff", "\ufeff# c\n", "\x00", "\x7f", "\r", "\r\n", "\n\r", " \r\n", T + "\r", T + "\r\r\n",
    # line endings
    T + 'name = "a"\r\n', T + 'name = "a"', T + 'name = "a"\r', T + 'name = "a" # c\r\n', "[[tenants]]\r\n\r\n",
    "[[tenants]]\r\nname = 'a'\r\n[tenants.stage]\r\nx = \"\\r\\n\"", "[[tenants]]", "[[tenants]]\n\n\n", "",
    " ", "\t", "\n", "#", "# c", "   # c\n\n",
    # keys
    *(T + f'{k} = "v"\n' for k in ["1", "-", "_", "true", "false", "inf", "nan", "+inf", "-inf", "1.5", "0x1",
                                   "tenants", "stage", "live", "Name", "NAME", "a-b_c", "é", "a.b", "a . b", '"a"',
                                   "'a'", "a b", "", "=", "#", "ſ", "K", "٣", "𝟙"]),
    T + 'name = "a"\nName = "b"\nNAME = "c"\n', T + 'name = "a"\nname = "a"\n', T + "name = 'a'\nname = \"b\"\n",
    T + 'a = "1"\nb = "2"\na = "3"\n', T + 'stage = "x"\n[tenants.stage]\n',
    T + "stage = { env = 'X' }\n[tenants.stage]\n",
    T + "live = { env = 'X' }\n[tenants.live]\n", T + "stage = {}\n[tenants.stage]\n",
    # headers
    T + "[tenants]\n", T + "[tenants.stage]\n[tenants.stage]\n", T + "[tenants.stage]\n[tenants.live]\n",
    T + "[tenants.stage]\n[tenants.live]\n[tenants.stage]\n", T + "[tenants.live]\n[tenants.stage]\n",
    T + "[tenants.stage]\n" + T + "[tenants.stage]\n", T + "[tenants.stage.x]\n",
    T + "[tenants.stage]\n[tenants.stage.x]\n", T + "[[tenants.stage]]\n", T + "[tenants.Stage]\n",
    T + "[Tenants.stage]\n",
    "[[Tenants]]\n", "[[TENANTS]]\n", "[tenants.stage]\n", "[tenants]\n" + T, 'name = "x"\n' + T, "tenants = []\n" + T,
    "tenants = [{name = 'a'}]\n" + T, "[[tenants]]\n[[tenants]]\n[[tenants]]\n",
    *(f"{h}\n" for h in ["[[ tenants ]]", "[[\ttenants\t]]", "[[tenants]] ", "[[tenants]]\t", "[[tenants]] # c",
                         "[[tenants]]#c", "[[tenants]]# ]]", " [[tenants]]", "\t[[tenants]]", "[ [tenants]]",
                         "[[tenants] ]", "[[tenants]]]", "[[tenants]] x", "[[tenants]] = 1", "[[tenants]]]]",
                         "[[ 'tenants' ]]", '[["tenants"]]', "[[tenants.]]", "[[.tenants]]"]),
    *(T + f"{h}\n" for h in ["[ tenants . stage ]", "[tenants . stage]", "[tenants\t.\tstage]", "[tenants .live]",
                             "[tenants. live]", "[tenants.stage] # c", "[tenants.stage]#", "[tenants.stage]  \t",
                             "[tenants.stage]]", "[tenants.stage] x", "[tenants..stage]", "[tenants.stage.]",
                             "[tenants.'stage']", '[tenants."live"]', "[tenants.stage ", "[[tenants.live]]"]),
    # inline tables
    *(T + f"stage = {v}\n" for v in ["{env='X'}", "{ env = 'X' }", "{\tenv\t=\t'X'\t}", "{env = \"X\"}", "{ env='X'}",
                                     "{ env = 'X' } # c", "{ env = 'X' }#", "{ env = 'X', }", "{ env = 'X', x = 'Y' }",
                                     "{ env = 1 }", "{}", "{ }", "{ env = { a = 'b' } }", "{ env = 'X' }}",
                                     "{{ env = 'X' }", "{ 'env' = 'X' }", "{ env.x = 'X' }", "{ env = '''X''' }",
                                     "{ env = \"\"\"X\"\"\" }",
                                     "{ env = \"a\\\"}\" }", "{ env = 'a}' }", "{ env = \"\\uD800\" }",
                                     "{ env = \"\\e\" }", "{ env = 'X' } x", "{ env = 'X'\n}", "{\nenv = 'X' }"]),
    T + "stage = { env = 'X' }\nstage = { env = 'Y' }\n", T + "[tenants.stage]\nsecret_key = { file = 'p' }\n"
    "secret_key = { env = 'X' }\n",
    # long lines
    T + "name = \"" + "\\n" * 5000 + "\"\n", T + "name = '" + "x" * 100_000 + "'\n", T + " " * 50_000 + 'name = "a"\n',
    T + 'name = "a"' + " " * 50_000 + "# c\n", T + "#" * 100_000 + "\n",
]


@pytest.mark.parametrize("doc", CASES)
def test_a_near_miss_is_read_as_tomllib_reads_it_or_left_to_it(doc: str) -> None:
    compare(doc)


def test_the_near_misses_are_not_all_left_to_tomllib() -> None:
    outcomes = [compare(doc) for doc in CASES]
    assert outcomes.count("read") > 150 and outcomes.count("refused") > 150


def test_an_escaped_surrogate_pair_is_two_refusals_not_one_character() -> None:
    assert compare(T + 'name = "\\uD83D\\uDE00"\n') == "refused"
    assert tenant_toml.loads(T + 'name = "\\U0001F600\\u00e9\\t"\n') == {"tenants": [{"name": "😀é\t"}]}


# --- a line of blanks that fails to match is read in linear time ------------------------------------------------


def test_an_indented_line_outside_the_subset_is_given_up_in_linear_time() -> None:
    """`[ \\t]*` both before and after an empty branch made every split of the indentation a try: 20,000 blanks
    then "a = 1" (valid TOML, a number) took about 6 s before the fast reader gave up, and the time grew with the
    square of the blanks. 300,000 blanks would then take over half an hour; read in linear time, milliseconds.
    No time is asserted: the child only has the suite's hang guard, which a quadratic reader cannot meet."""
    code = ("import sys\nfrom auditor import tenant_toml\nT = sys.argv[1]\n"
            "for doc in (T + ' ' * 300_000 + 'a = 1\\n', T + '\\t' * 300_000 + 'x\\n', ' ' * 300_000 + 'x'):\n"
            "    assert tenant_toml.loads(doc) is None\n"
            "print('given up')\n")
    done = subprocess.run([sys.executable, "-c", code, T], capture_output=True, text=True, timeout=HANG_GUARD)
    assert done.stdout.strip() == "given up", done.stderr
    assert compare(T + " " * 20_000 + "a = 1\n") == "left"


# --- a grammar of near misses -------------------------------------------------------------------------------

Pick = Callable[[Sequence[str]], str]
# Each choice is a plain one seven times in eight, else a near miss (a grammar of near misses only is all refusals).
BLANKS = (["", " ", "\t", " \t "], ["\u00a0", "\u3000", "\x85", "\u2028", "\ufeff", "\x0b", "\x0c"])
BODY = (["x", "Acme", " ", "\t", "#", "=", "{", "}", "[", "]", "é", "😀", "\u2028", "\x85", "\u00a0", "\ufeff",
         *ESCAPES[:20]], [*ESCAPES[20:], "'", '"', "\\", "\x7f", "\x00", "\r", "\r\n", "\n"])
KEYS = (["company_id", "name", "Name", "stage", "live", "env", "file", "tenants", "1", "-", "_", "true", "inf", "nan"],
        ['"name"', "'name'", "a.b", "ä", ""])
HEADERS = (["[[tenants]]", "[[ tenants ]]", "[[\ttenants]]", "[tenants.stage]", "[tenants.live]",
            "[ tenants . stage ]", "[tenants\t.live]"],
           ["[tenants]", "[[tenants.stage]]", "[tenants.stage.x]", "[tenants.'stage']", "[x]", "[[tenants] ]",
            "[ [tenants]]"])
TRAILERS = (["", " ", "\t", " # c", "#", "# é", "# '\"", "\t# \t"],
            ["# \x7f", "# \r", " x", " ]", ",", "\u00a0", "\u3000# c"])
ENDS = (["\n", "\r\n"], ["\r", "\x85", "\u2028", "\x0b"])


def one(pick: Pick, options: tuple[list[str], list[str]]) -> str:
    return pick(options[1]) if pick("gggggggn") == "n" else pick(options[0])


def grammar_string(pick: Pick) -> str:
    quote = one(pick, (['"', '"', "'"], ['"' * 3, "'" * 3]))
    body = "".join(one(pick, BODY) for _ in range(int(pick(["0", "1", "2", "4"]))))
    if quote == "'":
        body = body.replace("'", "")
    return quote + body + one(pick, ([quote], ["", quote * 2, '"' if quote == "'" else "'"]))


def grammar_line(pick: Pick) -> str:
    kind = pick(["key", "key", "key", "inline", "header", "header", "blank", "comment"])
    if kind in ("key", "inline"):
        value = grammar_string(pick)
        if kind == "inline":
            value = one(pick, (["{", "{ ", "{\t"], ["{{", "{\n"])) + one(pick, KEYS) + one(pick, BLANKS) + "=" \
                + one(pick, BLANKS) + value + one(pick, (["}", " }", "\t}"], [", }", "", "}}", ", a = 'b' }"]))
        body = one(pick, KEYS) + one(pick, BLANKS) + one(pick, (["="], [":", "==", ""])) + one(pick, BLANKS) + value
    elif kind == "header":
        body = one(pick, HEADERS)
    elif kind == "blank":
        body = ""
    else:
        body = "#" + "".join(one(pick, BODY) for _ in range(int(pick(["0", "1", "3"]))))
    return one(pick, BLANKS) + body + one(pick, TRAILERS) + one(pick, ENDS)


def grammar_document(pick: Pick) -> str:
    start = one(pick, (["[[tenants]]\n", "[[tenants]]\r\n", "# c\n[[ tenants ]]\n"],
                       ["", "\ufeff[[tenants]]\n", "tenants = []\n", "[tenants.stage]\n"]))
    return start + "".join(grammar_line(pick) for _ in range(int(pick(["1", "3", "6", "12"]))))


def picker(choices: bytes) -> Pick:
    remaining = iter(choices)
    return lambda options: options[next(remaining, 0) % len(options)]


@settings(max_examples=2000, deadline=None)
@given(st.binary(min_size=20, max_size=600))
def test_the_near_miss_grammar_is_tomllib_or_none(choices: bytes) -> None:
    compare(grammar_document(picker(choices)))


def test_the_near_miss_grammar_reaches_every_outcome() -> None:
    rng = random.Random(7)
    outcomes = [compare(grammar_document(lambda options: rng.choice(options))) for _ in range(3000)]
    assert all(outcomes.count(outcome) > 50 for outcome in ("read", "refused", "left")), \
        {o: outcomes.count(o) for o in set(outcomes)}


# --- mutations of a plain file, character by character ----------------------------------------------------------

PLAIN = """# fleet
[[tenants]]
company_id = "8XYM4WU2V6NJUM5LZ6C9"  # c
name = 'Ex\\ample'
contact = "a\\"b\\\\c\\u00E9\\U0001f600\\n"

[ tenants . stage ]
account_id = "acct_1"
secret_key = { env = "X" }
signing_secret = {file='p'}
[tenants.live]
x = ""
y = ''
[[ tenants ]]
company_id = "B"
"""
MUTATIONS = [*" \t\n\r\"'\\#=[]{}.,_-1aAuUbtnfrxe0FdD8", "\u00a0", "\u3000", "\u2028", "\x85", "\ufeff", "\x00", "\x7f",
             "\r\n", "\\u", "\\U", "\\uD800", "\\u00", "\\U00110000", "'''", '"""', "[[tenants]]\n",
             "[tenants.stage]\n", "[tenants.live]\n", "stage = {a='b'}\n", "true", "inf", "tenants", "stage", "live"]


def test_mutations_of_a_plain_file_are_tomllib_or_none() -> None:
    rng = random.Random(2024)
    outcomes = []
    for _ in range(6000):
        doc = PLAIN
        for _ in range(rng.randint(1, 3)):
            at, roll = rng.randrange(len(doc) + 1), rng.random()
            cut = 0 if roll < 0.4 else 1 if roll >= 0.7 else rng.randint(1, 3)
            doc = doc[:at] + ("" if 0.4 <= roll < 0.7 else rng.choice(MUTATIONS)) + doc[at + cut:]
        outcomes.append(compare(doc))
    assert outcomes.count("read") > 500 and outcomes.count("refused") > 500


# --- the load in parts and the whole load ---------------------------------------------------------------------


@pytest.fixture
def in_parts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file is parsed in parts, in two processes; the list says whether the parts were used."""
    monkeypatch.setattr(config, "PARALLEL_FROM", 0)
    monkeypatch.setattr(config, "_cores", lambda: 2)
    used: list[str] = []
    forked = config.forked_map
    monkeypatch.setattr(config, "forked_map", lambda *args, **kw: used.append(
        "parsed" if (result := forked(*args, **kw)) is not None else "failed") or result)
    return used


def whole(path: Path) -> list[config.Tenant]:
    saved = config.PARALLEL_FROM
    config.PARALLEL_FROM = 10**12
    try:
        return load_tenants(path)
    finally:
        config.PARALLEL_FROM = saved


def outcome(load: Callable[[Path], list[config.Tenant]], path: Path) -> Any:
    try:
        return load(path)
    except ConfigError as exc:
        return f"error: {exc}"


def odd_fleet(tmp_path: Path, tenants: int, newline: str = "\n") -> str:
    (tmp_path / "secrets").mkdir(exist_ok=True)
    lines = ["# the fleet, written by hand", "", "\t# an indented comment"]
    for i in range(tenants):
        cid = f"T{i:019d}"
        (tmp_path / "secrets" / f"{cid}_sk").write_text(f"{SK}{i}\n")
        lines += [f"  [[ tenants ]]  # tenant {i}", f'company_id\t= "{cid}"', f'name = "T\\u00e9nant \\"{i}\\"\\t#{i}"',
                  f"contact = 'ops+{i}@example.test' # it's", "\t[tenants . stage]\t",
                  'account_id = "acct_1AbCdEfGhIjKlMnO"', f"secret_key = {{file='secrets/{cid}_sk'}}",
                  f'signing_secret = "{WH}{i}\\\\"', "[tenants.live]", "", "# [[tenants]] in a comment"]
    return newline.join(lines) + newline


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_parts_of_a_file_with_escapes_and_odd_lines_are_the_whole(tmp_path: Path, in_parts: list[str],
                                                                   newline: str) -> None:
    path = tmp_path / "tenants.toml"
    path.write_bytes(odd_fleet(tmp_path, 12, newline).encode())
    tenants = load_tenants(path)
    assert in_parts == ["parsed"]
    assert tenants == whole(path)
    assert tenants[11].name == 'Ténant "11"\t#11'
    assert tenants[11].records[config.Environment.STAGE].signing_secret.reveal() == f"{WH}11\\"


@pytest.mark.parametrize("damage", ['name = "bad \\x41 escape"', 'name = "\\uD800"', "name = 'a\x7fb'",
                                    'name = "a\\"', "  [[tenants]] x", "[tenants.stage]", 'name = "a"\rb = "c"',
                                    "name = \"\u00a0\"\u00a0", "stage = { env = 'X' }"])
def test_a_damaged_late_tenant_is_worded_in_parts_as_whole(tmp_path: Path, in_parts: list[str], damage: str) -> None:
    text = odd_fleet(tmp_path, 12)
    last = text.rindex("[tenants.live]")
    path = tmp_path / "tenants.toml"
    path.write_text(text[:last] + damage + "\n" + text[last:], newline="")
    assert outcome(load_tenants, path) == outcome(whole, path)


def test_a_static_tenants_array_before_the_headers_is_refused_as_whole(tmp_path: Path, in_parts: list[str]) -> None:
    """`tenants = [ {...} ]` then `[[tenants]]` is not TOML (the array cannot be added to), but the first part
    (the array alone) and the second (the headers alone) each were, and the parts' 43 tenants were loaded."""
    items = ",\n".join(f'  {{ company_id = "A{i:05d}", name = "x" }}' for i in range(40))
    text = "# the fleet\ntenants = [\n" + items + "\n]\n" + "".join(f'[[tenants]]\ncompany_id = "B{i}"\n'
                                                                     for i in range(3))
    path = tmp_path / "tenants.toml"
    path.write_text(text)
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    tomllib.loads(text[:text.index("[[tenants]]")]), tomllib.loads(text[text.index("[[tenants]]"):])  # each part is
    got = outcome(load_tenants, path)
    assert isinstance(got, str) and "not valid TOML: Cannot mutate immutable namespace" in got
    assert got == outcome(whole, path)


@pytest.mark.parametrize("opening", ["", "\n\n", "# c\n", "# c\r\n\r\n", "  \t\n# a\n\t# b\n   "])
def test_a_file_opening_with_comments_and_blank_lines_is_still_loaded_in_parts(tmp_path: Path, in_parts: list[str],
                                                                               opening: str) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text(opening + odd_fleet(tmp_path, 6)[len("# the fleet, written by hand\n\n\t# an indented comment\n"):],
                    newline="")
    assert load_tenants(path) == whole(path)
    assert in_parts == ["parsed"]
