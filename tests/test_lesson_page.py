"""``adcli graph EXPR --at POINT --format html`` (issue 16): the page that steps through
the forward pass and the backward sweep, opened in headless Chromium (Debian's
chromium and chromium-driver, driven by Selenium; .ci/run installs them) with the
network off: each step's highlighted node and numbers against ``grad --format json
--nodes``, and a screenshot."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from adcli.numtext import numbers

SEED_PROGRAM = "t1 = sigmoid(x); t2 = t1*x; b2 = x**2 + 1; b3 = 1/b2; y = t2*b3"
APPLE = "apples = price*count; total = apples*tax"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
needs_chromium = pytest.mark.skipif(
    (CHROMIUM is None or DRIVER is None) and not os.environ.get("ADCLI_CI"),
    reason="Chromium and its driver are not installed (.ci/run installs them)",
)


def page(run, tmp_path, program: str, at: str):
    path = tmp_path / "lesson.html"
    r = run("graph", program, "--at", at, "-o", str(path))
    assert r.code == 0, r
    nodes = json.loads(run("grad", program, "--at", at, "--format", "json", "--nodes").out)
    return path, nodes["nodes"]


def test_the_page_is_one_file_that_names_no_url(run, tmp_path):
    path, nodes = page(run, tmp_path, SEED_PROGRAM, "2")
    text = path.read_text(encoding="utf-8")
    assert "http:" not in text and "https:" not in text and "src=" not in text
    steps = json.loads(text.split('id="steps">')[1].split("</script>")[0].replace("<\\/", "</"))
    assert [s["phase"] for s in steps] == ["forward"] * 7 + ["backward"] * 7
    assert [s["number"] for s in steps] == [*range(1, 8), *range(7, 0, -1)]
    num = numbers(6)
    for step in steps:
        node = nodes[step["number"] - 1]
        shown = num(node["value"]) if step["phase"] == "forward" else num(node["adjoint"])
        assert shown in step["html"], step


def test_the_page_needs_a_point_and_says_so(run, tmp_path):
    r = run("graph", SEED_PROGRAM, "-o", str(tmp_path / "lesson.html"))
    assert r.code == 2 and "give one: --at x=2" in r.err


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1200,900",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ):  # fmt: skip  the network off
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@needs_chromium
@pytest.mark.parametrize("program, at, count", [
    (SEED_PROGRAM, "2", 7),
    (APPLE, "price=100,count=2,tax=1.1", 5),
    ("apple*n*tax", "apple=100,n=2,tax=1.1", 5),  # the textbook's apples, unnamed
])  # fmt: skip
def test_next_steps_through_every_node_with_the_tables_numbers(run, tmp_path, browser, program,
                                                               at, count):  # fmt: skip
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path, nodes = page(run, tmp_path, program, at)
    browser.get(path.as_uri())
    panel = browser.find_element(By.ID, "panel")
    assert panel.get_attribute("data-phase") == "start"
    num = numbers(6)
    order = [*range(1, count + 1), *range(count, 0, -1)]
    for k, number in enumerate(order):
        browser.find_element(By.ID, "next").click()
        phase = "forward" if k < count else "backward"
        assert panel.get_attribute("data-phase") == phase
        assert panel.get_attribute("data-node") == str(number)
        current = browser.find_elements(By.CSS_SELECTOR, "#graph g.node.current title")
        assert [t.get_attribute("textContent") for t in current] == [f"n{number}"]
        node = nodes[number - 1]
        want = num(node["value"]) if phase == "forward" else num(node["adjoint"])
        assert want in panel.text, (phase, number, panel.text)
        if phase == "backward" and len(node["terms"]) > 1:  # the fan-out sum, in words
            assert panel.text.count(" from #") == len(node["terms"])
    browser.find_element(By.ID, "next").click()
    table = browser.find_element(By.ID, "table")
    assert table.is_displayed() and not panel.is_displayed()
    assert num(nodes[0]["adjoint"]) in table.text
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)  # back, by key
    assert panel.get_attribute("data-node") == "1"
    resources = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert resources == 0  # nothing was fetched: one self-contained file
    assert browser.get_screenshot_as_file(str(tmp_path / "lesson.png"))
