"""The viewer satisfies its Content-Security-Policy in a real browser (Debian's headless Chromium).

The fixtures come from the viewer tests (Chromium, the sample city's OSM data).
A `securitypolicyviolation` listener installed before any page script records
every blocked script, style, worker, image or connection.
"""

from __future__ import annotations

from typing import Any

from tests.viewer.conftest import browser_page, chromium, helsinki_centre, wait_for_map  # noqa: F401 — fixtures

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`));
"""


def _violations(page: Any) -> list[str]:
    return list(page.evaluate("() => window.__cspViolations"))


def test_city_map_renders_under_its_csp_without_violations(live_server, browser_page, helsinki_centre):  # noqa: F811
    _assert_renders_cleanly(live_server, browser_page, "/sample/")


def test_overview_renders_under_its_csp_without_violations(live_server, browser_page, cities):  # noqa: F811
    _assert_renders_cleanly(live_server, browser_page, "/")


def _assert_renders_cleanly(live_server: Any, browser_page: Any, path: str) -> None:  # noqa: F811
    page, log = browser_page
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(f"{live_server.url}{path}")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    wait_for_map(page)
    assert page.evaluate("() => window.geoportalMap.getStyle().layers.length") > 1
    assert _violations(page) == []
    assert [e for e in log.errors if "Content Security Policy" in e] == []


def test_an_injected_inline_script_is_blocked(live_server, browser_page, helsinki_centre):  # noqa: F811
    """The policy is not decorative: an inline script that was not in the page as served does not run."""
    page, _ = browser_page
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{live_server.url}/sample/")
    wait_for_map(page)
    page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.__pwned = 1";
                   document.body.appendChild(s); }"""
    )
    assert page.evaluate("() => window.__pwned === undefined")
    assert any("script-src" in v for v in _violations(page))
