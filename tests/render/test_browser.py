"""report.html read as a person reads it: in a real headless Chromium (Debian's, installed by scripts/test-deps).

Clicks a matrix cell and a top action, uses the filters (and sets them from the address), and opens the page
with scripts disabled. Bounded: a 120-tenant fleet, one browser per module, waits of at most 20 s each.
"""

from __future__ import annotations

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from auditor.render import RenderOptions, get_renderer
from auditor.results import CheckStatus, Severity
from tests.render import synthetic

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
WAIT = 20  # seconds at most for the page to react (a bound, not a speed assertion)


def _browser(scripts: bool = True) -> webdriver.Chrome:
    assert CHROMIUM and DRIVER, "headless Chromium and chromedriver are missing: run scripts/test-deps (make test does)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    if not scripts:
        options.add_argument("--blink-settings=scriptEnabled=false")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture(scope="module")
def fleet_run():
    return synthetic.fleet(120)


@pytest.fixture(scope="module")
def page(fleet_run, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_bytes(get_renderer("html").render(fleet_run, RenderOptions()))
    return path.as_uri()


@pytest.fixture(scope="module")
def browser():
    driver = _browser()
    yield driver
    driver.quit()


def _visible(driver, css: str) -> list:
    return [el for el in driver.find_elements(By.CSS_SELECTOR, css) if el.is_displayed()]


def _top_of(driver, element_id: str) -> float:
    return driver.execute_script("return document.getElementById(arguments[0]).getBoundingClientRect().top;",
                                 element_id)


def test_a_matrix_cell_leads_to_the_records_findings_in_one_click(browser, page, fleet_run) -> None:
    browser.get(page)
    link = browser.find_element(By.CSS_SELECTOR, "#matrix-table td.mc-fail a")
    target = link.get_attribute("href").split("#", 1)[1]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    link.click()
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return location.hash") == "#" + target)
    section = browser.find_element(By.ID, target)
    assert section.tag_name == "section" and section.is_displayed()
    assert -2 <= _top_of(browser, target) <= 60  # scrolled to the top of the window
    company_id, environment = target.rsplit("-", 1)
    record = next(r for r in fleet_run.records if (r.company_id, r.environment) == (company_id, environment))
    failed = [c.rule for c in record.checks if c.status is CheckStatus.FAIL]
    assert failed and all(rule in section.text for rule in failed)


def test_a_top_action_leads_to_its_rule_and_the_rule_to_a_tenant(browser, page) -> None:
    browser.get(page)
    first = browser.find_element(By.CSS_SELECTOR, "ol.actions li a")
    rule = first.text
    first.click()
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return location.hash") == f"#rule-{rule}")
    group = browser.find_element(By.ID, f"rule-{rule}")
    assert -2 <= _top_of(browser, f"rule-{rule}") <= 60
    tenant = group.find_element(By.CSS_SELECTOR, ".affected a")
    target = tenant.get_attribute("href").split("#", 1)[1]
    tenant.click()
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return location.hash") == "#" + target)
    assert rule in browser.find_element(By.ID, target).text


def test_the_rule_filter_shows_only_that_rules_findings_and_no_passing_checks(browser, page, fleet_run) -> None:
    browser.get(page)
    Select(browser.find_element(By.CSS_SELECTOR, "#filters select[name=rule]")).select_by_value("WH006")
    shown = (CheckStatus.FAIL, CheckStatus.ERROR)  # failed, or could not be checked
    expected = {f"{r.company_id}-{r.environment}" for r in fleet_run.records
                if (c := r.check("WH006")) is not None and c.status in shown}
    WebDriverWait(browser, WAIT).until(lambda d: len(_visible(d, "section.record")) == len(expected))
    assert {s.get_attribute("id") for s in _visible(browser, "section.record")} == expected
    findings = _visible(browser, "section.record [data-rules]")
    assert findings and all("WH006" in f.get_attribute("data-rules").split() for f in findings)
    assert _visible(browser, "section.record details.passing") == []
    rows = _visible(browser, "#matrix-table tbody tr")
    assert {r.find_element(By.TAG_NAME, "code").text for r in rows} == {e.rsplit("-", 1)[0] for e in expected}
    assert [g.get_attribute("id") for g in _visible(browser, "section.rule-group")] == ["rule-WH006"]
    assert f"showing {len(expected)} of" in browser.find_element(By.ID, "filter-count").text


def test_filters_set_in_the_address(browser, page, fleet_run) -> None:
    """?severity=critical&env=live&status=fail: live records with a critical failure, nothing else."""
    browser.get(page + "?severity=critical&env=live&status=fail")
    expected = {f"{r.company_id}-{r.environment}" for r in fleet_run.records if r.environment == "live" and any(
        c.status is CheckStatus.FAIL and c.severity is Severity.CRITICAL for c in r.checks)}
    WebDriverWait(browser, WAIT).until(lambda d: len(_visible(d, "section.record")) == len(expected))
    assert expected and {s.get_attribute("id") for s in _visible(browser, "section.record")} == expected
    assert all(f.get_attribute("data-severity") == "critical" for f in _visible(browser, "section.record [data-rules]"))
    assert Select(browser.find_element(By.CSS_SELECTOR, "select[name=env]")).first_selected_option.text == "live"


def test_without_its_script_the_page_shows_everything(page, fleet_run) -> None:
    driver = _browser(scripts=False)
    try:
        driver.get(page)
        assert not driver.find_element(By.ID, "filters").is_displayed()  # no dead controls
        records = driver.find_elements(By.CSS_SELECTOR, "section.record")
        assert records and all(s.is_displayed() for s in records[:50])
        link = driver.find_element(By.CSS_SELECTOR, "#matrix-table td.mc-fail a")
        target = link.get_attribute("href").split("#", 1)[1]
        link.click()  # anchors work without a script
        WebDriverWait(driver, WAIT).until(lambda d: -2 <= _top_of(d, target) <= 60)
    finally:
        driver.quit()


def test_the_evidence_table_is_readable_at_1280_px(browser, page) -> None:
    """No column crushed to a few letters: the key and account columns fit their values on one line."""
    browser.get(page + "#evidence")
    widths = browser.execute_script(
        "var row = document.querySelector('table.evidence tbody tr');"
        "return Array.prototype.map.call(row.cells, function (c) { return c.getBoundingClientRect().width; });")
    heights = browser.execute_script(
        "var row = document.querySelector('table.evidence tbody tr');"
        "return [row.cells[0].querySelector('code').getClientRects().length,"
        "        row.cells[2].querySelector('code').getClientRects().length];")
    assert min(widths) > 30 and heights == [1, 1]


def test_every_link_of_a_report_with_changes_leads_somewhere(browser, fleet_run, tmp_path) -> None:
    """With a previous run the first screen lists resolved findings and new errors: no link points at nothing."""
    path = tmp_path / "report.html"
    previous = synthetic.fleet(120, seed=8)
    path.write_bytes(get_renderer("html").render(fleet_run, RenderOptions(previous=previous)))
    browser.get(path.as_uri())
    dead = browser.execute_script(
        "return Array.prototype.filter.call(document.querySelectorAll('a[href^=\"#\"]'), function (a) {"
        "  return !document.getElementById(decodeURIComponent(a.hash.slice(1))); })"
        ".map(function (a) { return a.hash + ' ' + a.textContent; });")
    changes = browser.find_element(By.CSS_SELECTOR, "table.changes")
    assert "resolved" in changes.text and "new error" in changes.text  # the cases that linked nowhere
    assert dead == []
    resolved = [row for row in changes.find_elements(By.CSS_SELECTOR, "tr") if "resolved" in row.text]
    link = next(a for row in resolved for a in row.find_elements(By.CSS_SELECTOR, "a[href*='PLENIGOFLEET0']"))
    target = link.get_attribute("href").split("#", 1)[1]
    link.click()  # a resolved record that still has findings: its section, one click away
    WebDriverWait(browser, WAIT).until(lambda d: -2 <= _top_of(d, target) <= 60)


def test_and_n_more_of_a_cause_shows_every_record_that_could_not_be_audited(browser, page, fleet_run) -> None:
    """The first screen names 8 records of a cause; "… and N more" leads to all of them, filtered."""
    browser.get(page)
    more = browser.find_element(By.CSS_SELECTOR, ".cause-records a[href*='status=error']")
    errored = [r for r in fleet_run.records if r.status.value == "error"]
    assert more.text == f"… and {len(errored) - 8} more"
    more.click()
    WebDriverWait(browser, WAIT).until(lambda d: "status=error" in d.current_url and d.find_element(
        By.ID, "filter-count").text)
    shown = _visible(browser, "section.record")
    assert {s.get_attribute("id") for s in shown} == {f"{r.company_id}-{r.environment}" for r in errored}
    assert -2 <= _top_of(browser, "findings") <= 60


def test_the_changes_table_keeps_rule_and_environment_whole_at_1280_px(browser, fleet_run, tmp_path) -> None:
    """A rule ID or "stage" broken over two lines ("WH00" / "3") cannot be read or searched."""
    path = tmp_path / "report.html"
    path.write_bytes(get_renderer("html").render(fleet_run, RenderOptions(previous=synthetic.fleet(120, seed=8))))
    browser.get(path.as_uri())
    lines = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('table.changes tbody tr'), function (tr) {"
        "  if (tr.cells.length < 6) return [1, 1, 1];"
        "  return [0, 2, 4].map(function (i) { var r = document.createRange(); r.selectNodeContents(tr.cells[i]);"
        "    var tops = Array.prototype.map.call(r.getClientRects(), function (q) { return Math.round(q.top); });"
        "    return new Set(tops).size; }); });")
    assert lines and all(row == [1, 1, 1] for row in lines), lines[:5]
