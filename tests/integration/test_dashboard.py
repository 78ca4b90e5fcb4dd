"""GET /dashboard in a real browser (Debian's headless Chromium driven by
playwright-core): the page loads, its charts draw data points from the
reports, the console stays clean; the screenshot is kept in tests/artifacts/."""
import json
import subprocess

from conftest import ROOT, keptd_cmd
from test_analytics import history  # noqa: F401  (the seeded history fixture)

CHECK = ROOT / "tests" / "dashboard" / "check.mjs"
ARTIFACTS = ROOT / "tests" / "artifacts"


def test_the_dashboard_draws_the_reports(history, phone_server, role_keys, cluster):
    assert keptd_cmd(cluster.url, "analytics").returncode == 0
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    done = subprocess.run(["node", str(CHECK), f"http://127.0.0.1:{phone_server.port}/dashboard",
                           role_keys["finance"], str(shot)], capture_output=True, text=True, timeout=120,
                          cwd=CHECK.parent)
    assert done.returncode == 0, done.stderr + done.stdout
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == [], result
    assert all(n > 0 for n in result["points"].values()), result
    assert shot.stat().st_size > 10000


def test_the_page_and_its_files_are_served_without_a_key(server):
    c = server.client()
    page = c.get("/dashboard")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert b"/dashboard/chart.umd.js" in page.body and b"https://" not in page.body  # nothing from a CDN
    lib = c.get("/dashboard/chart.umd.js")
    assert lib.status == 200 and b"Chart" in lib.body and len(lib.body) > 100000
    assert c.get("/dashboard/nope.js").status == 404
    # the reports it draws still need a finance or admin key
    assert c.get("/v1/reports/origin?from=2026-01-05&to=2027-01-04").status == 401
