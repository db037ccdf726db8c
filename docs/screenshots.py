"""Makes the README's two pictures with the tools the tests use: the lesson page
(``adcli graph --format html``) in headless Chromium, stepped into the backward
sweep, and the node table of ``docs/lesson.ipynb`` as Jupyter shows it (the cell's
HTML output, run by nbclient, in the same browser).

    python docs/screenshots.py      # needs the test extra, chromium and chromium-driver
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbclient
import nbformat
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

DOCS = Path(__file__).resolve().parent
SEED_PROGRAM = "t1 = sigmoid(x); t2 = t1*x; b2 = x**2 + 1; b3 = 1/b2; y = t2*b3"


def browser(width: int, height: int):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def lesson_page(folder: Path) -> None:
    page = folder / "lesson.html"
    adcli = [sys.executable, "-m", "adcli"]
    subprocess.run([*adcli, "graph", SEED_PROGRAM, "--at", "2", "-o", str(page)], check=True)
    driver = browser(1100, 560)
    driver.get(page.as_uri())
    for _ in range(13):  # the backward sweep, at t1: its adjoint 0.4
        driver.find_element(By.ID, "next").click()
    driver.get_screenshot_as_file(str(DOCS / "lesson-page.png"))
    driver.quit()


def notebook_table(folder: Path) -> None:
    notebook = nbformat.read(DOCS / "lesson.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    cell = next(c for c in notebook.cells if c.source == "f.table(x=2)")
    html = cell.outputs[0]["data"]["text/html"]
    style = ("body { font-family: Helvetica, Arial, sans-serif; margin: 1em; } "
             "table { border-collapse: collapse; } td, th { border: 1px solid #ccc; "
             "padding: 0.2em 0.6em; vertical-align: top; }")  # fmt: skip
    page = folder / "table.html"
    head = f"<!DOCTYPE html><meta charset='utf-8'><style>{style}</style>"
    page.write_text(f"{head}<p><code>In [2]: f.table(x=2)</code></p>{html}", encoding="utf-8")
    driver = browser(760, 600)
    driver.get(page.as_uri())
    driver.get_screenshot_as_file(str(DOCS / "notebook-table.png"))
    driver.quit()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        lesson_page(Path(tmp))
        notebook_table(Path(tmp))
    print("wrote docs/lesson-page.png and docs/notebook-table.png")
