"""The one permission check. Every surface asks it which layers a caller may see or change.

It returns QuerySets (never Python lists) so that the restriction becomes part
of each surface's own SQL query: a layer the caller may not see is filtered
inside the database and answers exactly like a missing one.

The model
    - anonymous: public layers only;
    - `internal`: signed-in users with a role in the owning city, and national
      staff (any role without a city); a national layer's internal data is
      for anyone holding any role;
    - `restricted`: members of the groups granted on the layer (`LayerGrant`);
    - superusers and national admins: everything;
    - writes: editors and city admins of the layer's city (national editors
      and admins everywhere), groups granted `can_write`, superusers — and
      only on layers they can also see;
    - an API token (`user.api_token`, attached by `geoportal.auth`) never
      exceeds its service account: public layers, plus what the account may
      see that lies inside the token's cities/layers; restricted layers only
      when named in the token's layers. Writing needs the token's write scope.

`user.is_staff` alone grants nothing: it only opens the admin site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler

from layers.models import Layer, Visibility
from layers.models_access import ApiToken, CityRole, LayerGrant, Role

WRITE_ROLES = (Role.EDITOR, Role.CITY_ADMIN, Role.NATIONAL_ADMIN)
# Explicit truth values: an empty Q() is the identity of `|` in Django (Q() | x == x), not "true".
EVERYTHING = Q(pk__isnull=False)
NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class Principal:
    """Who is asking, as the check needs it: read once per request from the roles table."""

    user_id: int | None
    superuser: bool
    national_admin: bool
    national_roles: frozenset[str]
    city_roles: dict[int, frozenset[str]]
    token: ApiToken | None

    @property
    def any_role(self) -> bool:
        return bool(self.national_roles or self.city_roles)


def principal_of(user: Any) -> Principal:
    """The caller's roles, cached on the user object (one small query per request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Principal(None, False, False, frozenset(), {}, None)
    cached = getattr(user, "_geoportal_principal", None)
    if isinstance(cached, Principal):
        return cached
    national: set[str] = set()
    per_city: dict[int, set[str]] = {}
    for city_id, role in CityRole.objects.filter(user_id=user.pk).values_list("city_id", "role"):
        (national if city_id is None else per_city.setdefault(city_id, set())).add(role)
    principal = Principal(
        user_id=user.pk,
        superuser=bool(user.is_superuser),
        national_admin=Role.NATIONAL_ADMIN in national,
        national_roles=frozenset(national),
        city_roles={city: frozenset(roles) for city, roles in per_city.items()},
        token=getattr(user, "api_token", None),
    )
    user._geoportal_principal = principal
    return principal


def _granted(principal: Principal, *, write: bool) -> Q:
    grants = LayerGrant.objects.filter(group__user__id=principal.user_id or 0)
    if write:
        grants = grants.filter(can_write=True)
    return Q(id__in=grants.values("layer_id"))


def _account_reads(principal: Principal) -> Q:
    """What the signed-in account may read, before any token scope."""
    if principal.superuser or principal.national_admin:
        return EVERYTHING
    internal_cities = list(principal.city_roles)
    internal = Q(city_id__in=internal_cities)
    if principal.national_roles:
        internal = EVERYTHING  # national staff read every city's internal layers
    if principal.any_role:
        internal |= Q(city__isnull=True)
    else:
        internal = NOTHING
    return (
        Q(visibility=Visibility.PUBLIC)
        | (Q(visibility=Visibility.INTERNAL) & internal)
        | (Q(visibility=Visibility.RESTRICTED) & _granted(principal, write=False))
    )


def _account_writes(principal: Principal) -> Q:
    if principal.superuser or principal.national_admin:
        return EVERYTHING
    national_writer = any(role in WRITE_ROLES for role in principal.national_roles)
    cities = [city for city, roles in principal.city_roles.items() if any(role in WRITE_ROLES for role in roles)]
    by_role = EVERYTHING if national_writer else Q(city_id__in=cities)
    return by_role | _granted(principal, write=True)


def _token_scope(token: ApiToken) -> Q:
    """Layers inside the token's scope: its layers, and the non-restricted layers of its cities."""
    named = Q(id__in=token.layers.values("id"))
    in_cities = Q(city_id__in=token.cities.values("id")) & ~Q(visibility=Visibility.RESTRICTED)
    return named | in_cities


def visible_layers(*, user: Any = None) -> QuerySet[Layer]:
    """Layers `user` may read (see the module docstring). Anonymous callers see public layers only."""
    layers = Layer.objects.select_related("city")
    principal = principal_of(user)
    if principal.user_id is None:
        return layers.filter(visibility=Visibility.PUBLIC)
    reads = _account_reads(principal)
    if principal.token is not None:
        reads = Q(visibility=Visibility.PUBLIC) | (reads & _token_scope(principal.token))
    return layers.filter(reads)


def _by_key(layers: QuerySet[Layer], *, city_slug: str | None, slug: str) -> QuerySet[Layer]:
    # (city, slug) is unique: no ORDER BY, which would cost a join to compile and run.
    where = Q(city__isnull=True) if city_slug is None else Q(city__slug=city_slug)
    return layers.filter(where, slug=slug).order_by()[:1]


def visible_layer(*, user: Any = None, city_slug: str | None, slug: str) -> Layer | None:
    """The layer `slug` of city `city_slug` (None = national) if `user` may read it, else None."""
    if principal_of(user).user_id is None:
        return public_layer_with(city_slug=city_slug, slug=slug)[0]
    return next(iter(_by_key(visible_layers(user=user), city_slug=city_slug, slug=slug)), None)


# Anonymous lookups — most API traffic — run a compiled-once copy of the very same query:
# `_by_key(visible_layers(user=None), …)` is compiled with placeholder values, and each call
# substitutes its own. Only SQL text is kept (per connection, hence per thread), never a
# result: visibility and version are read fresh on every request.
_CITY, _SLUG = "\x1fgeoportal-city\x1f", "\x1fgeoportal-slug\x1f"


@dataclass(frozen=True)
class _Compiled:
    compiler: SQLCompiler
    db: str
    sql: str
    params: tuple[Any, ...]
    # Each column's from-database converters (geometries, datetimes…), worked out once, not per row.
    converters: dict[int, Any]


def _compiled_public_lookup(*, national: bool, only: tuple[str, ...] = ()) -> _Compiled | None:
    """The compiled lookup, or None when its placeholders are not plain parameters (then use the ORM).

    `only`: the fields to load (`QuerySet.only`), all when empty.
    """
    db = router.db_for_read(Layer)
    cache: dict[tuple[bool, tuple[str, ...]], _Compiled | None]
    cache = connections[db].__dict__.setdefault("_geoportal_public_layer_sql", {})
    if (national, only) not in cache:
        layers = _loading(visible_layers(user=None).using(db), only)
        queryset = _by_key(layers, city_slug=None if national else _CITY, slug=_SLUG)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        placeholders = sorted(param for param in params if param in (_CITY, _SLUG))
        expected = [_SLUG] if national else sorted([_CITY, _SLUG])
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        compiled = _Compiled(compiler, queryset.db, sql, tuple(params), converters)
        cache[national, only] = compiled if placeholders == expected else None
    return cache[national, only]


def _loading(layers: QuerySet[Layer], only: tuple[str, ...]) -> QuerySet[Layer]:
    return layers.only(*only) if only else layers


def public_layer_with(
    *,
    city_slug: str | None,
    slug: str,
    scalar_sql: str | None = None,
    scalar_params: Sequence[Any] = (),
    only: tuple[str, ...] = (),
) -> tuple[Layer | None, Any]:
    """The public layer (or None), and — when `scalar_sql` is given — the value of that scalar subquery
    evaluated for it, in the same statement (one round trip; e.g. a feature of the layer: the subquery
    refers to the layer's row as "layers_layer"). The subquery only ever sees a public layer's row.

    `only`: load just these fields (`QuerySet.only`; any other is read on first use, one query more).
    """
    compiled = _compiled_public_lookup(national=city_slug is None, only=only)
    select, sep, rest = compiled.sql.partition(' FROM "layers_layer" ') if compiled else ("", "", "")
    if compiled is None or not sep or " FROM " in select or "%s" in select:
        return _public_layer_orm(city_slug=city_slug, slug=slug, scalar_sql=scalar_sql, scalar_params=scalar_params, only=only)
    values = {_CITY: city_slug, _SLUG: slug}
    params = [values.get(param, param) if isinstance(param, str) else param for param in compiled.params]
    sql = compiled.sql
    if scalar_sql is not None:
        # The compiled lookup selects plain columns (no parameters before FROM): the subquery's go first.
        sql, params = f"{select}, ({scalar_sql}){sep}{rest}", [*scalar_params, *params]
    with connections[compiled.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchmany(1)
    if not rows:
        return None, None
    return _layer_from_row(compiled, rows[0]), rows[0][-1] if scalar_sql is not None else None


def _layer_from_row(compiled: _Compiled, row: tuple[Any, ...]) -> Layer:
    compiler, db = compiled.compiler, compiled.db
    klass_info, select = compiler.klass_info, compiler.select
    assert klass_info is not None
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    converted = next(iter(compiler.apply_converters([row], compiled.converters))) if compiled.converters else list(row)
    layer = Layer.from_db(db, names, converted[start:end])
    # Django 5.2 (pinned) takes three arguments; django-stubs describe a later release.
    for populator in get_related_populators(klass_info, select, db):  # type: ignore[call-arg]
        populator.populate(converted, layer)
    return layer


def _public_layer_orm(
    *, city_slug: str | None, slug: str, scalar_sql: str | None, scalar_params: Sequence[Any], only: tuple[str, ...] = ()
) -> tuple[Layer | None, Any]:
    """The same through the ORM (when the compiled form does not apply): the layer, then the scalar."""
    layers = _by_key(_loading(visible_layers(user=None), only), city_slug=city_slug, slug=slug)
    if scalar_sql is not None:
        # The subquery is our own SQL text (layers.features, layers.tiles); every value is a separate parameter.
        layers = layers.annotate(_scalar=RawSQL(scalar_sql, tuple(scalar_params)))  # noqa: S611
    layer = next(iter(layers), None)
    return layer, getattr(layer, "_scalar", None)


def writable_layers(*, user: Any = None) -> QuerySet[Layer]:
    """Layers `user` may change: imports, edits, visibility. Always a subset of `visible_layers`."""
    principal = principal_of(user)
    if principal.user_id is None:
        return Layer.objects.none()
    writes = _account_writes(principal)
    if principal.token is not None:
        if not principal.token.can_write:
            return Layer.objects.none()
        writes &= _token_scope(principal.token)
    return visible_layers(user=user).filter(writes)


def can_write(*, user: Any = None, layer: Layer) -> bool:
    return writable_layers(user=user).filter(pk=layer.pk).exists()


def can_create_in(*, user: Any = None, city_id: int | None) -> bool:
    """May `user` create a new layer in this city (None = national)? Same roles as writing."""
    principal = principal_of(user)
    if principal.user_id is None:
        return False
    token = principal.token
    if token is not None and (not token.can_write or city_id is None or not token.cities.filter(id=city_id).exists()):
        return False
    if principal.superuser or principal.national_admin:
        return True
    if any(role in WRITE_ROLES for role in principal.national_roles):
        return True
    return city_id is not None and any(role in WRITE_ROLES for role in principal.city_roles.get(city_id, ()))


def manageable_cities(*, user: Any = None) -> list[int] | None:
    """City ids whose layers `user` administers (visibility, grants); None = all cities."""
    principal = principal_of(user)
    if principal.superuser or principal.national_admin:
        return None
    return [city for city, roles in principal.city_roles.items() if Role.CITY_ADMIN in roles]
