"""Header blocks read by auditor.collect.headers are the messages http.client's own parser makes."""

from __future__ import annotations

import email.parser
import http.client
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.collect.headers import _plain_block, parse_header_block

_NAME = st.text(st.sampled_from("ABCabcXyz-_0123456789!~;:@ \t"), min_size=0, max_size=8)
_VALUE = st.text(st.sampled_from("abc ,;:=/\t\x00\x0b\x0c\x1c\x7f\x85\xa0\xff\r\"'"), max_size=12)
_KNOWN = st.sampled_from(["Content-Type: application/json", "Content-Type: multipart/mixed; boundary=x",
                          "content-type:  Message/rfc822", "Content-Length: 12", "Transfer-Encoding: chunked",
                          "From nobody", "From: someone", " continued", "\tfolded", "no colon here", ": empty name",
                          "Request-Id: req_1", "Set-Cookie: a=b", "X-Dup: 1"])
_LINE = st.one_of(st.builds(lambda n, v: f"{n}:{v}", _NAME, _VALUE), _KNOWN)
_END = st.sampled_from(["\r\n", "\n", "\r", ""])


def stdlib(lines: list[bytes]) -> http.client.HTTPMessage:
    parser = email.parser.Parser(_class=http.client.HTTPMessage)
    return parser.parsestr(b"".join(lines).decode("iso-8859-1"))  # type: ignore[return-value]


def shape(message: http.client.HTTPMessage) -> dict[str, object]:
    """Every attribute of a message; defects (which compare by identity) by their class and text."""
    fields = dict(vars(message))
    fields["defects"] = [(type(d), str(d)) for d in message.defects]
    if isinstance(message.get_payload(), list):  # a message/* or multipart body: its parts, compared alike
        fields["_payload"] = [shape(part) for part in message.get_payload()]
    return fields


def read_lines(block: bytes) -> list[bytes]:
    """The lines http.client's _read_headers takes from the socket for this block."""
    return http.client._read_headers(io.BytesIO(block))  # type: ignore[attr-defined]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.tuples(_LINE, _END), max_size=8), st.sampled_from(["\r\n", "\n", ""]))
def test_every_block_gives_the_message_the_email_parser_gives(lines, blank) -> None:
    block = ("".join(line + end for line, end in lines) + blank).encode("latin-1")
    taken = read_lines(block)
    fast, slow = parse_header_block(taken), stdlib(taken)
    assert shape(fast) == shape(slow)  # headers in order, payload, defects, default type, unixfrom, policy


def test_a_plain_block_takes_the_quick_path_and_others_do_not() -> None:
    plain = read_lines(b"Server: stub\r\nContent-Type: application/json\r\nRequest-Id:  req_1 \r\n\r\n")
    message = _plain_block(plain, b"".join(plain).decode("iso-8859-1"))
    assert message is not None and message.items() == [("Server", "stub"), ("Content-Type", "application/json"),
                                                        ("Request-Id", "req_1 ")]
    for odd in (b"Server: stub\r\n folded\r\n\r\n", b"Server: a\rb\r\n\r\n", b"no colon\r\n\r\n",
                b"Content-Type: multipart/mixed\r\n\r\n", b"Server: stub\r\n"):
        lines = read_lines(odd)
        assert _plain_block(lines, b"".join(lines).decode("iso-8859-1")) is None, odd
        assert shape(parse_header_block(lines)) == shape(stdlib(lines))
