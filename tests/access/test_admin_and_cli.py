"""Managing access: `geoportal layer …`, the admin (tokens shown once, revocation, the one check on its lists), the audit log."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import CommandError, call_command
from django.test import Client

from layers.models import Layer
from layers.models_access import ApiToken, AuditLog, CityRole, LayerGrant, Role
from layers.services_access import token_hash
from tests.access.conftest import World


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("layer", *args, stdout=out)
    return out.getvalue()


def test_set_visibility_from_the_cli_bumps_the_version_and_is_audited(world: World):
    before = world.layers["minsk-roads"].version
    assert "minsk-roads: public → restricted" in run("set-visibility", "minsk-roads", "restricted")
    layer = Layer.objects.get(pk=world.layers["minsk-roads"].pk)
    assert (layer.visibility, layer.version) == ("restricted", before + 1)
    entry = AuditLog.objects.get(action="layer.set_visibility", target="minsk-roads")
    assert entry.actor.startswith("cli:") and entry.details == {"from": "public", "to": "restricted", "version": before + 1}
    assert Client().get("/ogc/collections/minsk-roads").status_code == 404


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("set-visibility", "minsk-nothing", "public"), "Collection 'minsk-nothing' does not exist"),
        (("set-visibility", "atlantis-roads", "public"), "City 'atlantis' does not exist"),
        (("grant", "minsk-gas", "no-such-group"), "Group 'no-such-group' does not exist"),
    ],
)
def test_cli_errors_name_what_is_wrong(world: World, args, says):
    with pytest.raises(CommandError, match=re.escape(says)):
        run(*args)


def test_cli_rejects_an_unknown_visibility(world: World):
    with pytest.raises(CommandError, match="invalid choice: 'secret'"):
        run("set-visibility", "minsk-roads", "secret")


def test_grant_and_ungrant_from_the_cli(world: World):
    Group.objects.create(name="gas-crew")
    assert "may write" in run("grant", "minsk-gas", "gas-crew", "--write")
    assert LayerGrant.objects.get(layer=world.layers["minsk-gas"], group__name="gas-crew").can_write
    assert "no longer has access" in run("ungrant", "minsk-gas", "gas-crew")
    assert [e.action for e in AuditLog.objects.filter(target="minsk-gas").order_by("at")] == ["grant.set", "grant.delete"]
    listing = run("list", "--city", "minsk")
    assert "minsk-gas\trestricted" in listing and "brest" not in listing


@pytest.fixture
def minsk_admin(world: World, cities) -> Client:
    """A city admin of Minsk with the admin site's layer permissions (is_staff + Django model permissions)."""
    user = User.objects.create_user("minsk-admin", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_layer", "change_layer"]))
    CityRole.objects.create(user=user, city=cities["minsk"], role=Role.CITY_ADMIN)
    client = Client()
    client.force_login(user)
    return client


def test_admin_layer_list_is_limited_by_the_one_check(world: World, minsk_admin: Client):
    page = minsk_admin.get("/admin/layers/layer/").content.decode()
    shown = {cid for cid in world.cids if f">{cid}<" in page}
    assert shown == {"minsk-roads", "minsk-pipes", "brest-roads"}
    hidden = minsk_admin.get(f"/admin/layers/layer/{world.layers['minsk-gas'].pk}/change/")
    missing = minsk_admin.get("/admin/layers/layer/999999999/change/")
    assert hidden.status_code == missing.status_code == 302  # the admin's answer for an object that does not exist
    assert hidden["Location"] == missing["Location"] == "/admin/"


def test_admin_visibility_change_goes_through_the_service(world: World, minsk_admin: Client):
    layer = world.layers["minsk-pipes"]
    form = minsk_admin.get(f"/admin/layers/layer/{layer.pk}/change/").context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (dict, list))}
    data.update(
        visibility="public",
        title='{"en": "pipes"}',
        abstract="{}",
        fields="{}",
        **{"grants-TOTAL_FORMS": "0", "grants-INITIAL_FORMS": "0"},
    )
    data.pop("extent", None)
    response = minsk_admin.post(f"/admin/layers/layer/{layer.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    layer.refresh_from_db()
    assert (layer.visibility, layer.version) == ("public", 2)
    entry = AuditLog.objects.get(action="layer.set_visibility", target="minsk-pipes")
    assert entry.user is not None and entry.user.username == "minsk-admin" and entry.details["from"] == "internal"


def test_admin_token_secret_is_shown_once_and_only_its_hash_kept(world: World, cities):
    root = User.objects.create_superuser("root")
    service = User.objects.create_user("svc")
    client = Client()
    client.force_login(root)
    data = {"name": "traffic lights", "user": service.pk, "cities": [cities["minsk"].pk], "rate_limit_per_minute": "600"}
    response = client.post("/admin/layers/apitoken/add/", data, follow=True)
    shown = re.findall(r"gp_[A-Za-z0-9_-]{43}", response.content.decode())
    assert len(shown) == 1, "the new secret is shown exactly once"
    token = ApiToken.objects.get(name="traffic lights")
    assert token.token_hash == token_hash(shown[0]) and token.created_by == root
    assert shown[0] not in client.get(f"/admin/layers/apitoken/{token.pk}/change/").content.decode()
    assert shown[0] not in client.get("/admin/layers/apitoken/").content.decode()
    assert Client(HTTP_AUTHORIZATION=f"Bearer {shown[0]}").get("/ogc/collections").status_code == 200

    client.post("/admin/layers/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client(HTTP_AUTHORIZATION=f"Bearer {shown[0]}").get("/ogc/collections").status_code == 401
    assert [e.action for e in AuditLog.objects.filter(target=str(token)).order_by("at")] == ["token.create", "token.revoke"]


def test_finished_imports_are_audited(world: World, tmp_path):
    source = tmp_path / "roads.geojson"
    source.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"A"},'
        '"geometry":{"type":"LineString","coordinates":[[27.5,53.9],[27.6,53.9]]}}]}'
    )
    call_command("ingest", str(source), "--city", "minsk", "--theme", "roads", "--layer", "streets", stdout=None)
    entry = AuditLog.objects.get(target="minsk-streets")
    assert entry.action == "import.succeeded" and entry.details["inserted"] == 1


def _staff_with(cities, name: str, codenames: list[str]) -> tuple[User, Client]:
    user = User.objects.create_user(name, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    CityRole.objects.create(user=user, city=cities["minsk"], role=Role.CITY_ADMIN)
    client = Client()
    client.force_login(user)
    return user, client


def test_admin_feature_list_and_its_filter_show_only_visible_layers(world: World, cities):
    _, client = _staff_with(cities, "fa", ["view_feature"])
    page = client.get("/admin/layers/feature/").content.decode()
    assert "minsk-pipes" in page and "minsk-roads" in page
    assert "minsk-gas" not in page and "gas-0" not in page and "brest-pipes" not in page


def test_city_admin_cannot_hand_out_roles_beyond_their_city(world: World, cities):
    _, client = _staff_with(cities, "ca", ["add_cityrole", "view_cityrole", "change_cityrole"])
    target = User.objects.create_user("newcomer")
    own = client.post("/admin/layers/cityrole/add/", {"user": target.pk, "city": cities["minsk"].pk, "role": "editor"})
    assert own.status_code == 302
    for city, role in ((cities["brest"].pk, "editor"), ("", "national_admin")):
        response = client.post("/admin/layers/cityrole/add/", {"user": target.pk, "city": city, "role": role})
        assert response.status_code == 200 and response.context["adminform"].form.errors, (city, role)
    assert list(CityRole.objects.filter(user=target).values_list("city__slug", "role")) == [("minsk", "editor")]
    assert AuditLog.objects.filter(action="role.set", details__user="newcomer").count() == 1


def test_token_list_shows_a_city_admin_only_their_own_tokens(world: World, cities):
    from layers.services_access import token_create

    user, client = _staff_with(cities, "ta", ["view_apitoken"])
    token_create(name="mine", user=user, created_by=user)
    token_create(name="someone-elses", user=user)
    page = client.get("/admin/layers/apitoken/").content.decode()
    assert "mine" in page and "someone-elses" not in page
