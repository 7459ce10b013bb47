"""Suite-wide: every results.json a test writes (in process or through the installed command) is valid
against the published schema, so a field changed anywhere without the schema is caught by the test that wrote it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.results_schema import check_file, written_results

# No test asserts a wall-clock limit, and that holds for Hypothesis too: its default deadline (200 ms an example)
# and its too_slow health check judge by the clock, so on a loaded machine (the suite runs on every core, beside
# whatever else runs) they could fail a test whose property holds. A test's own @settings keeps its max_examples
# and derandomize; one that names its own suppress_health_check lists too_slow itself.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

_checked: dict[Path, tuple[int, int]] = {}


def _invalid(folder: Path) -> list[str]:
    found = []
    for path in written_results(folder):
        stat = path.stat()
        if _checked.get(path) == (stat.st_mtime_ns, stat.st_size):
            continue
        errors = check_file(path)
        _checked[path] = (stat.st_mtime_ns, stat.st_size)
        found += [f"{path}: {error}" for error in errors[:5]]
    return found


@pytest.fixture(autouse=True)
def _results_written_by_this_test_match_the_schema(request):
    """After each test that used ``tmp_path``: its results files validate (the test itself is marked failed)."""
    yield
    tmp = request.node.funcargs.get("tmp_path") if hasattr(request.node, "funcargs") else None
    if tmp is not None and Path(tmp).is_dir():
        found = _invalid(Path(tmp))
        assert not found, "results.json does not match `audit schema`:\n" + "\n".join(found)


@pytest.fixture(autouse=True, scope="session")
def _results_written_anywhere_match_the_schema(tmp_path_factory):
    """At the end: also the files of module- and session-scoped folders (tmp_path_factory)."""
    yield
    found = _invalid(tmp_path_factory.getbasetemp())
    assert not found, "results.json does not match `audit schema`:\n" + "\n".join(found)
