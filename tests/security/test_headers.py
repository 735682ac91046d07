"""Every page carries the Content-Security-Policy and Permissions-Policy headers."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def test_pages_carry_a_strict_content_security_policy(client, db):
    response = client.get("/login/")
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    scripts = policy["script-src"]
    assert "'self'" in scripts
    assert not any(s in scripts for s in ("'unsafe-inline'", "'unsafe-eval'", "*"))
    # The page's scripts carry the header's nonce.
    nonce = next(s for s in scripts if s.startswith("'nonce-"))[len("'nonce-") : -1]
    page = response.content.decode()
    tags = re.findall(r"<script\b[^>]*>", page)
    assert tags
    assert all(f'nonce="{nonce}"' in tag and "src=" in tag for tag in tags)


def test_the_nonce_changes_per_response(client, db):
    first = directives(client.get("/login/"))["script-src"]
    second = directives(client.get("/login/"))["script-src"]
    assert first != second


def test_the_admin_and_error_pages_carry_the_policy_too(client, db):
    for url in ("/admin/login/", "/no-such-page/", "/codebook/?q=%00"):
        response = client.get(url)
        assert "script-src 'self'" in response["Content-Security-Policy"], url
        assert "camera=()" in response["Permissions-Policy"], url


@pytest.mark.parametrize(
    "feature",
    [
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "serial",
        "bluetooth",
        "display-capture",
    ],
)
def test_the_permissions_policy_disables_device_features(client, db, feature):
    policy = client.get("/login/")["Permissions-Policy"]
    assert f"{feature}=()" in [part.strip() for part in policy.split(",")]


def test_no_template_or_script_relies_on_inline_code_or_style():
    """What the policy would block, found before a browser does: inline scripts, on*=
    handlers, javascript: URLs and style attributes (templates, our JS, HTML built in
    Python)."""
    offenders = []
    patterns = [
        re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
        re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I),
        re.compile(r"javascript:", re.I),
        re.compile(r"\sstyle\s*=\s*[\"'{]", re.I),
        re.compile(r"<style\b", re.I),
        re.compile(r"\bhx-on\b|hx-on:|hx-vals=['\"]js:", re.I),
    ]
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("static/js/*.js")]
    apps = ("ccs_sim", "common", "tenancy", "questionbank", "exams", "scoring", "itemanalysis",
            "cohorts", "codebook", "lti", "psychometrics")  # fmt: skip
    # Markup made only for WeasyPrint (the PDF report, rendered on the server and never
    # sent to a browser): it styles inline SVG only from a <style> inside it.
    print_only = {"scoring/report_pdf.py"}
    files += [
        p
        for app in apps
        for p in (ROOT / app).rglob("*.py")
        if "migrations" not in p.parts and str(p.relative_to(ROOT)) not in print_only
    ]
    for path in files:
        text = path.read_text()
        if path.suffix == ".html":
            text = re.sub(r"{% comment %}.*?{% endcomment %}|{#.*?#}", "", text, flags=re.S)
        for pattern in patterns:
            for match in pattern.finditer(text):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)!r}")
    assert offenders == [], offenders
