"""The blocked-reason page in a real headless Chromium, used by keyboard alone: Tab to the
labelled field, type, Tab to the button, Enter; the action is then blocked with that reason."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.email.links import LinkAnswer
from tests.conftest import FakeClock
from tests.link_seed import seed, serving, status_of

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REASON = "Väntar på samtycke från vårdnadshavare"

# Every form control that is not hidden, and whether a <label> names it.
UNLABELLED = """() => [...document.querySelectorAll('input, textarea, select, button')]
  .filter(el => el.type !== 'hidden' && el.tagName !== 'BUTTON')
  .filter(el => el.labels === null || el.labels.length === 0)
  .map(el => el.id || el.name || el.tagName)"""
# The WCAG contrast ratio of each text element's colour against its (inherited) background;
# the elements below 4.5:1 (AA for normal text), as "tag ratio".
LOW_CONTRAST = """() => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll('h1, p, label, button, textarea, input')]
    .map(el => {
      const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
      return [el.tagName, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
    })
    .filter(([, ratio]) => ratio < 4.5)
    .map(([tag, ratio]) => tag + ' ' + ratio.toFixed(2));
}"""
FOCUSED = "() => document.activeElement.id || document.activeElement.tagName"
FOCUS_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  return [style.outlineStyle, style.outlineWidth];
}"""


@pytest.fixture
def chromium() -> Path:
    """The Debian package's Chromium (`make test` installs it when missing, and there a missing
    browser fails the test rather than skipping it)."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("SAMVERKAN_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here: apt-get install chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return Path(found)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_reason_form_is_filled_and_sent_by_keyboard_alone(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, chromium: Path
) -> None:
    from playwright.async_api import async_playwright

    case = seed(sessions, catalogue, clock)
    before = status_of(sessions, case.action)

    async def scenario() -> None:
        async with serving(sessions, catalogue, clock) as served, async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(java_script_enabled=True)
                url = served.link(case.sara, LinkAnswer.BLOCKED, case.action)
                response = await page.goto(url)
                assert response is not None and response.status == 200
                assert await page.get_attribute("html", "lang") == "sv"
                assert await page.evaluate(UNLABELLED) == []
                assert await page.evaluate(LOW_CONTRAST) == []
                label = await page.inner_text("label[for=reason]")
                assert label == "Vad är hindret?"
                # Keyboard only: the first Tab reaches the reason, the next the button.
                await page.keyboard.press("Tab")
                assert await page.evaluate(FOCUSED) == "reason"
                await page.keyboard.type(REASON)
                await page.keyboard.press("Tab")
                assert await page.evaluate(FOCUSED) == "BUTTON"
                style, width = await page.evaluate(FOCUS_RING)
                assert style != "none" and width != "0px"
                async with page.expect_navigation():
                    await page.keyboard.press("Enter")
                assert "Sparat" in await page.inner_text("main")
            finally:
                await browser.close()

    asyncio.run(scenario())
    status, count, notes = status_of(sessions, case.action)
    assert status == "blocked" and count == before[1] + 1 and notes[-1] == REASON
