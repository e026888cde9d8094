"""Driving the hub's pages in Debian's chromium (Playwright): log in, the formgrader, Lab.

The steps a person takes, by what they see: the hub's login form, the formgrader's
buttons (its rows and cells carry the class names nbgrader's own JavaScript uses:
``td.assign``, ``td.release``, ``td.collect``, ``td.autograde``...), JupyterLab's Nbgrader
menu, the Assignments tab's buttons and the notebook's Validate button.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
SPAWN_TIMEOUT = 180_000  # ms: a server's first start on a busy 2-core machine
ACTION_TIMEOUT = 120_000  # ms: an nbgrader command behind a button (autograde)
NBGRADER_MENU = "li.lm-MenuBar-item:has-text('Nbgrader')"  # Lab is up, extensions loaded
SCORE = re.compile(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)")


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise FileNotFoundError("chromium is not installed: apt-get install chromium")
    return path


class Person:
    """One browser context (cookies of its own) logged in as one hub user."""

    def __init__(self, browser, hub, name: str, password: str, shots: Path):
        self.hub, self.name, self.shots = hub, name, shots
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.context.set_default_timeout(ACTION_TIMEOUT)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.password = password

    def shot(self, step: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{step}.png"))

    def login(self) -> None:
        """The hub's login form; waits for the user's JupyterLab to be ready."""
        page = self.page
        page.goto(f"{self.hub.url}/hub/login")
        page.fill("#username_input", self.name)
        page.fill("#password_input", self.password)
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{self.name}/lab**", timeout=SPAWN_TIMEOUT)
        page.wait_for_selector(NBGRADER_MENU, timeout=SPAWN_TIMEOUT)

    # ------------------------------------------------------------------ formgrader
    def formgrader(self) -> None:
        self.page.goto(f"{self.hub.url}/user/{self.name}/formgrader")
        self.page.wait_for_selector("td.name a", timeout=60_000)

    def assignment_row(self, assignment: str):
        return self.page.locator("tr", has=self.page.locator("td.name", has_text=assignment))

    def click_for_dialog(self, target, expect: str) -> str:
        """Click a formgrader button, wait for its result dialog, check it, close it."""
        target.click()
        modal = self.page.locator(".modal.in, .modal.show").first
        modal.wait_for(state="visible", timeout=ACTION_TIMEOUT)
        text = modal.inner_text()
        if expect not in text:
            raise AssertionError(f"expected {expect!r} in the formgrader's dialog:\n{text}")
        return text

    def close_modal(self) -> None:
        self.page.locator(".modal-footer button.close").first.click()
        self.page.locator(".modal").first.wait_for(state="detached")

    # ------------------------------------------------------------------ JupyterLab
    def assignments_tab(self) -> None:
        page = self.page
        page.goto(f"{self.hub.url}/user/{self.name}/lab")
        page.wait_for_selector(NBGRADER_MENU, timeout=SPAWN_TIMEOUT)
        page.click(NBGRADER_MENU)
        page.click("li.lm-Menu-item:has-text('Assignment List')")
        page.wait_for_selector("#released_assignments_list", timeout=60_000)
        page.wait_for_selector("#released_assignments_list_loading", state="hidden")

    def open_notebook(self, path: str):
        page = self.page
        page.goto(f"{self.hub.url}/user/{self.name}/lab/tree/{path}")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell .cm-content", timeout=60_000)
        # the kernel's start-up must not be mistaken for the page being ready
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        return page

    def set_answer(self, function: str, source: str) -> None:
        """Replace the whole text of the answer cell that defines ``function``."""
        page = self.page
        cell = page.locator(".jp-CodeCell", has_text=f"def {function}(").first
        cell.scroll_into_view_if_needed()
        editor = cell.locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        # insert_text types no keys: no auto-indent, no auto-closed brackets
        page.keyboard.insert_text(source)
        page.keyboard.press("Escape")

    def save(self) -> None:
        page = self.page
        page.keyboard.press("Control+s")
        page.wait_for_selector(".jp-mod-current.jp-mod-dirty", state="detached")

    def validate(self) -> str:
        """The notebook toolbar's Validate button; returns the dialog's text (then closes it)."""
        page = self.page
        page.click("button.validate-button, .validate-button")
        dialog = page.locator(".jp-Dialog", has_text="Validation Results")
        dialog.wait_for(state="visible", timeout=ACTION_TIMEOUT)
        return dialog.inner_text()

    def close_dialog(self) -> None:
        self.page.locator(".jp-Dialog button.jp-mod-accept").click()
        self.page.locator(".jp-Dialog").wait_for(state="detached")

    def close(self) -> None:
        self.context.close()
