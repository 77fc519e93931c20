"""The permission model itself: roles per city, national staff, groups, writes — as SQL filters."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Group, User

from layers.access import can_write, visible_layers, writable_layers
from layers.models_access import CityRole, LayerGrant, Role
from tests.access.conftest import World


def cids(queryset) -> set[str]:
    return {layer.collection_id for layer in queryset} & {"minsk-roads", "minsk-pipes", "minsk-gas", "brest-roads", "brest-pipes"}


def make_user(name: str, cities, *roles: tuple[str | None, str], **flags) -> User:
    user = User.objects.create_user(name, **flags)
    for city, role in roles:
        CityRole.objects.create(user=user, city=cities[city] if city else None, role=role)
    return user


def test_staff_flag_alone_grants_nothing_beyond_public(world: World, cities):
    """is_staff only opens the admin site: a city admin of Brest must not read Minsk's internal layers."""
    staff = make_user("staff", cities, is_staff=True)
    assert cids(visible_layers(user=staff)) == {"minsk-roads", "brest-roads"}
    assert cids(writable_layers(user=staff)) == set()


def test_national_staff_read_every_internal_layer_but_no_restricted_one(world: World, cities):
    national_viewer = make_user("nv", cities, (None, Role.VIEWER))
    assert cids(visible_layers(user=national_viewer)) == {"minsk-roads", "minsk-pipes", "brest-roads", "brest-pipes"}
    assert cids(writable_layers(user=national_viewer)) == set()


def test_superuser_and_national_admin_see_and_write_everything(world: World, cities):
    superuser = User.objects.create_superuser("root")
    national_admin = make_user("na", cities, (None, Role.NATIONAL_ADMIN))
    for user in (superuser, national_admin):
        assert cids(visible_layers(user=user)) == set(world.cids)
        assert cids(writable_layers(user=user)) == set(world.cids)


def test_editor_writes_own_city_layers_it_can_see(world: World, cities):
    editor = make_user("ed", cities, ("minsk", Role.EDITOR))
    assert cids(writable_layers(user=editor)) == {"minsk-roads", "minsk-pipes"}  # not the restricted gas layer
    assert can_write(user=editor, layer=world.layers["minsk-pipes"])
    assert not can_write(user=editor, layer=world.layers["brest-roads"])


def test_group_write_grant_on_a_restricted_layer(world: World, cities):
    crew = Group.objects.create(name="gas-crew")
    LayerGrant.objects.create(layer=world.layers["minsk-gas"], group=crew, can_write=True)
    fitter = make_user("fitter", cities)  # no role at all: the grant alone
    fitter.groups.add(crew)
    assert cids(visible_layers(user=fitter)) == {"minsk-roads", "brest-roads", "minsk-gas"}
    assert cids(writable_layers(user=fitter)) == {"minsk-gas"}


def test_national_internal_layer_is_for_anyone_with_a_role(world: World, cities, make_layer):
    make_layer(None, "borders", "boundaries", [("b", "POINT(27 53)", {})], visibility="internal")
    with_role = make_user("v", cities, ("brest", Role.VIEWER))
    without = make_user("nobody", cities)
    assert "belarus-borders" in {layer.collection_id for layer in visible_layers(user=with_role)}
    assert "belarus-borders" not in {layer.collection_id for layer in visible_layers(user=without)}
    assert "belarus-borders" not in {layer.collection_id for layer in visible_layers(user=AnonymousUser())}


def test_the_check_is_one_sql_query_not_a_python_filter(world: World, cities, django_assert_max_num_queries):
    """Roles are read once; the visible layers come from a single filtered query (subqueries inside it)."""
    user = make_user("v", cities, ("minsk", Role.VIEWER))
    queryset = visible_layers(user=user)
    sql = str(queryset.query)
    assert "layers_layergrant" in sql and "visibility" in sql
    with django_assert_max_num_queries(1):
        list(queryset)
