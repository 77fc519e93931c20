from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"
    verbose_name = "Layers registry"

    def ready(self) -> None:
        from layers import signals

        signals.connect()  # layers_changed after every committed change to a layer
