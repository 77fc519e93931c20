"""Background tasks of the registry (the Django tasks interface; django-tasks-db's `db_worker` runs them)."""

from __future__ import annotations

from django_tasks import task

from layers.services import layer_spatial_order


@task()
def order_layer_spatially(layer_id: int, version: int) -> bool:
    return layer_spatial_order(layer_id=layer_id, version=version)


def enqueue_spatial_order(*, layer_id: int, version: int) -> str:
    return str(order_layer_spatially.enqueue(layer_id, version).id)
