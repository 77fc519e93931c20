"""The one permission check. Every surface asks it which layers a caller may see.

It returns a QuerySet (never a Python list) so that the restriction becomes
part of each surface's own SQL query: a layer the caller may not see is
filtered inside the database and answers exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from layers.models import Layer, Visibility


def visible_layers(*, user: Any = None) -> QuerySet[Layer]:
    """Layers `user` may read. Anonymous callers see public layers only.

    National staff (superusers/staff) see everything; other signed-in users see
    public and internal layers. Per-city roles, groups for restricted layers and
    API tokens refine this in the access-control issue without changing callers.
    """
    layers = Layer.objects.select_related("city")
    if user is None or not getattr(user, "is_authenticated", False):
        return layers.filter(visibility=Visibility.PUBLIC)
    if user.is_superuser or user.is_staff:
        return layers
    return layers.filter(visibility__in=(Visibility.PUBLIC, Visibility.INTERNAL))
