"""POST /api/imports → a queued job run by the real django-tasks-db worker; GET follows it. Auth and bad input."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from ingest.models import ImportJob
from layers.models import Layer
from layers.models_access import CityRole, Role
from layers.services_access import token_create


def run_worker() -> None:
    """The real worker, once through the queue (what `geoportal serve` runs continuously)."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", stdout=StringIO(), stderr=StringIO())


@pytest.fixture
def minsk_editor(cities: Any) -> User:
    user = User.objects.create_user("editor", password="pw-editor-123")
    CityRole.objects.create(user=user, city=cities["minsk"], role=Role.EDITOR)
    return user


@pytest.fixture
def write_token(minsk_editor: User, cities: Any) -> str:
    _token, secret = token_create(name="city platform", user=minsk_editor, cities=[cities["minsk"]], can_write=True)
    return secret


@pytest.mark.django_db(transaction=True)  # the worker commits and closes connections, like in production
def test_bearer_upload_is_imported_by_the_worker(write_token: str, two_buildings_geojson: Path) -> None:
    client = Client()
    with two_buildings_geojson.open("rb") as handle:
        response = client.post(
            "/api/imports",
            {"file": handle, "city": "minsk", "theme": "buildings"},
            HTTP_AUTHORIZATION=f"Bearer {write_token}",
        )
    assert response.status_code == 202, response.content
    queued = response.json()
    assert queued["status"] == "queued" and response["Location"].endswith(f"/api/imports/{queued['id']}")
    assert not Layer.objects.filter(slug="buildings").exists()  # nothing happens inside the request

    run_worker()

    done = client.get(f"/api/imports/{queued['id']}", HTTP_AUTHORIZATION=f"Bearer {write_token}").json()
    assert done["status"] == "succeeded", done
    assert done["progress"] == {"done": 2, "total": 2, "percent": 100.0}
    assert done["run"]["counts"]["inserted"] == 2 and done["run"]["collection"] == "minsk-buildings"
    assert done["run"]["layer_version"] == 1 and done["run"]["encoding"] == "UTF-8"
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    assert layer.feature_count == 2 and layer.features.count() == 2
    listed = client.get("/api/imports", HTTP_AUTHORIZATION=f"Bearer {write_token}").json()["imports"]
    assert [job["id"] for job in listed] == [queued["id"]]
    assert not Path(ImportJob.objects.get(pk=queued["id"]).file_path).exists()  # the upload is removed


@pytest.mark.django_db(transaction=True)
def test_bad_file_makes_a_failed_job_with_the_reason(minsk_editor: User, tmp_path: Path) -> None:
    client = Client()
    client.force_login(minsk_editor)
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    with broken.open("rb") as handle:
        response = client.post("/api/imports", {"file": handle, "city": "minsk", "theme": "buildings"})
    assert response.status_code == 202
    run_worker()
    job = client.get(f"/api/imports/{response.json()['id']}").json()
    assert job["status"] == "failed" and job["error"].startswith("broken.geojson: cannot be read as vector data")
    assert job["run"]["status"] == "failed"


def test_anonymous_and_unauthorised_callers_are_refused(cities: Any, two_buildings_geojson: Path) -> None:
    client = Client()
    with two_buildings_geojson.open("rb") as handle:
        anonymous = client.post("/api/imports", {"file": handle, "city": "minsk", "theme": "buildings"})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "Unauthorized"
    reader = User.objects.create_user("reader")
    _token, read_only = token_create(name="read only", user=reader, cities=[cities["minsk"]])
    with two_buildings_geojson.open("rb") as handle:
        forbidden = client.post(
            "/api/imports", {"file": handle, "city": "minsk", "theme": "buildings"}, HTTP_AUTHORIZATION=f"Bearer {read_only}"
        )
    assert forbidden.status_code == 403 and "may not import into 'minsk-buildings'" in forbidden.json()["description"]
    assert not ImportJob.objects.exists()


def test_missing_file_and_bad_mode_are_400(write_token: str, two_buildings_geojson: Path) -> None:
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {write_token}"
    no_file = client.post("/api/imports", {"city": "minsk", "theme": "buildings"})
    assert no_file.status_code == 400 and "'file'" in no_file.json()["description"]
    with two_buildings_geojson.open("rb") as handle:
        bad_mode = client.post("/api/imports", {"file": handle, "city": "minsk", "theme": "buildings", "mode": "merge"})
    assert bad_mode.status_code == 400 and "mode 'merge'" in bad_mode.json()["description"]
    assert client.get("/api/imports/999999").status_code == 404


def test_a_job_is_followed_only_by_its_submitter_and_superusers(
    minsk_editor: User, write_token: str, cities: Any, two_buildings_geojson: Path
) -> None:
    with two_buildings_geojson.open("rb") as handle:
        queued = Client(HTTP_AUTHORIZATION=f"Bearer {write_token}").post(
            "/api/imports", {"file": handle, "city": "minsk", "theme": "buildings"}
        )
    job_id = queued.json()["id"]
    other = User.objects.create_user("other-editor")
    CityRole.objects.create(user=other, city=cities["minsk"], role=Role.EDITOR)
    client = Client()
    client.force_login(other)
    hidden, missing = client.get(f"/api/imports/{job_id}"), client.get("/api/imports/999999")
    assert hidden.status_code == missing.status_code == 404  # someone else's job answers like a missing one
    assert hidden.json()["description"] == f"Import job {job_id} does not exist."
    assert client.get("/api/imports").json()["imports"] == []
    client.force_login(User.objects.create_superuser("boss"))
    assert client.get(f"/api/imports/{job_id}").json()["status"] == "queued"
    assert [job["id"] for job in client.get("/api/imports").json()["imports"]] == [job_id]


def test_session_post_needs_csrf(minsk_editor: User, two_buildings_geojson: Path) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(minsk_editor)
    with two_buildings_geojson.open("rb") as handle:
        response = client.post("/api/imports", {"file": handle, "city": "minsk", "theme": "buildings"})
    assert response.status_code == 403 and not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_admin_upload_form_queues_a_job_the_worker_imports(cities: Any, two_buildings_geojson: Path) -> None:
    admin_user = User.objects.create_superuser("boss", password="pw-boss-123")
    client = Client()
    client.force_login(admin_user)
    listing = client.get("/admin/ingest/importjob/")
    assert listing.status_code == 200 and b"Upload a file to import" in listing.content
    with two_buildings_geojson.open("rb") as handle:
        response = client.post(
            "/admin/ingest/importjob/upload/", {"file": handle, "city": "minsk", "theme": "buildings", "mode": "replace"}
        )
    assert response.status_code == 302, response.content.decode()[:500]
    job = ImportJob.objects.get()
    assert job.status == "queued" and job.user == admin_user
    run_worker()
    job.refresh_from_db()
    assert job.status == "succeeded" and job.run is not None and job.run.inserted == 2
    runs = client.get("/admin/layers/importrun/")
    assert runs.status_code == 200 and b"minsk-buildings" in runs.content
