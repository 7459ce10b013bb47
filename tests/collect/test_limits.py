"""limits.Body: what an answer may cost, counted after inflating (the sockets are in tests/faults)."""

from __future__ import annotations

import zlib

import pytest

from auditor.collect.limits import AnswerRefused, Body, size_text


def _fed(body: Body, data: bytes, chunk: int = 1000) -> bytes:
    for i in range(0, len(data), chunk):
        body.feed(data[i:i + chunk])
    return body.content()


@pytest.mark.parametrize("encoding", ["", "identity", "gzip", "x-gzip", "deflate", " GZIP "])
def test_an_answer_within_the_cap_is_read_whole_whatever_its_encoding(encoding) -> None:
    text = b'{"object": "list", "data": [], "pad": "' + b"x" * 5000 + b'"}'
    wbits = {"": None, "identity": None, "deflate": zlib.MAX_WBITS}.get(encoding, 31)
    if wbits is not None:
        packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
        data = packer.compress(text) + packer.flush()
    else:
        data = text
    assert _fed(Body(encoding, limit=len(text)), data) == text


@pytest.mark.parametrize("encoding", ["", "deflate"])
def test_one_byte_over_the_cap_is_refused(encoding) -> None:
    text = b"a" * 4097
    data = zlib.compress(text) if encoding else text
    with pytest.raises(AnswerRefused, match=r"^the answer is larger than 4 KB$"):
        _fed(Body(encoding, limit=4096), data)


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, gzip", "compress"])
def test_an_encoding_that_cannot_be_inflated_with_a_cap_is_refused(encoding) -> None:
    with pytest.raises(AnswerRefused, match="which the auditor does not read"):
        Body(encoding, limit=1024)


def test_size_text() -> None:
    assert [size_text(n) for n in (8 << 20, 1 << 20, 256 << 10, 1536)] == ["8 MB", "1 MB", "256 KB", "1.5 KB"]
