"""Headers, CSP, CSRF, sign-in lockout and production settings."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from layers.models_access import LoginFailure
from layers.services_access import token_create

REPO = Path(__file__).resolve().parents[2]
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # the lockout is what is tested, not the hash


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


def test_viewer_page_policy_allows_exactly_its_import_map(cities):
    response = Client().get("/minsk/")
    body = response.content
    found = re.search(rb'<script type="importmap">(.*?)</script>', body, re.S)
    assert found, "the viewer page has an import map"
    import_map = found.group(1)
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(import_map).digest()).decode() + "'"
    policy = _directives(response["Content-Security-Policy"])
    assert digest in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["worker-src"] == ["'self'", "blob:"] and "data:" in policy["img-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_an_import_map_pointing_elsewhere_is_not_allowed(cities):
    from geoportal.middleware import content_security_policy

    evil = b'<script type="importmap">{"imports": {"maplibre-gl": "https://evil.example/x.js"}}</script>'
    own = b'<script type="importmap">{"imports": {"maplibre-gl": "/static/vendor/maplibre-gl/maplibre-gl.mjs"}}</script>'
    assert "sha256-" not in _directives(content_security_policy(evil, "n"))["script-src"][2:]
    assert len(_directives(content_security_policy(own, "n"))["script-src"]) == 3


def test_ogc_html_pages_get_their_inline_style_hashed(cities):
    response = Client().get("/ogc/?f=html")
    found = re.search(rb"<style>(.*?)</style>", response.content, re.S)
    assert found, "the OGC HTML page has an inline style"
    style = found.group(1)
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(style).digest()).decode() + "'"
    assert digest in _directives(response["Content-Security-Policy"])["style-src"]


def test_session_writes_need_a_csrf_token_but_bearer_requests_do_not(cities, make_layer):
    layer = make_layer("minsk", "roads", "roads", [("r", "POINT(27.5 53.9)", {})])
    admin = User.objects.create_superuser("root")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    response = browser.post(f"/admin/layers/layer/{layer.pk}/change/", {"visibility": "restricted"})
    assert response.status_code == 403
    layer.refresh_from_db()
    assert layer.visibility == "public"
    _, secret = token_create(name="svc", user=admin)
    service = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert browser.post("/api/imports").status_code == 403  # signed in by cookie, no CSRF token
    assert service.post("/api/imports").status_code == 400  # reaches the view: a token is no ambient cookie


@pytest.fixture
def editor(db, settings) -> User:
    settings.PASSWORD_HASHERS = FAST_HASHER
    return User.objects.create_user("editor", password="right-password", is_staff=True)


def _login(password: str, ip: str = "10.0.0.1") -> bool:
    """True when the admin sign-in succeeded (it redirects); False when the form came back."""
    response = Client(REMOTE_ADDR=ip).post("/admin/login/?next=/admin/", {"username": "editor", "password": password})
    return response.status_code == 302


def test_sign_in_locks_after_five_failures_per_user_name_and_address(editor):
    assert [_login("wrong") for _ in range(5)] == [False] * 5
    assert LoginFailure.objects.filter(username="editor", ip="10.0.0.1").count() == 5
    assert not _login("right-password"), "locked: even the right password is refused"
    assert _login("right-password", ip="10.0.0.2"), "another address is not locked"
    assert not LoginFailure.objects.filter(ip="10.0.0.2").exists()


def test_lockout_thresholds_come_from_the_settings(editor, settings):
    settings.GEOPORTAL = {**settings.GEOPORTAL, "LOGIN_MAX_FAILURES": 2, "LOGIN_LOCK_MINUTES": 1}
    assert [_login("wrong") for _ in range(2)] == [False, False]
    assert not _login("right-password"), "locked after the configured two failures"
    LoginFailure.objects.filter(username="editor").update(at=timezone.now() - timedelta(minutes=2))
    assert _login("right-password"), "the configured one minute has passed"


def test_a_successful_sign_in_forgets_earlier_failures(editor):
    assert not _login("wrong") and not _login("wrong")
    assert _login("right-password")
    assert not LoginFailure.objects.filter(username="editor", ip="10.0.0.1").exists()


def _settings_in_subprocess(**env: str) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); print(json.dumps({k: getattr(settings, k, None) "
        "for k in ('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT')}))"
    )
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "geoportal.settings", **env}
    environ.pop("GEOPORTAL_DEBUG", None) if "GEOPORTAL_DEBUG" not in env else None
    done = subprocess.run([sys.executable, "-c", code], env=environ, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_https_switches_on_secure_cookies_hsts_and_redirect():
    secure = _settings_in_subprocess(GEOPORTAL_HTTPS="1")
    assert secure == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_SSL_REDIRECT": True,
    }
    assert _settings_in_subprocess(GEOPORTAL_HTTPS="1", GEOPORTAL_DEBUG="1")["SECURE_HSTS_SECONDS"] == 0


def test_production_refuses_to_start_without_a_secret_key():
    environ = {k: v for k, v in os.environ.items() if k not in ("GEOPORTAL_SECRET_KEY", "GEOPORTAL_DEBUG")}
    environ.update(DATABASE_URL="postgresql://u:p@db.example:5432/geoportal", DJANGO_SETTINGS_MODULE="geoportal.settings")
    code = "import django; django.setup()"
    done = subprocess.run([sys.executable, "-c", code], env=environ, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "GEOPORTAL_SECRET_KEY is not set" in done.stderr
