from django.apps import AppConfig


class GeoportalConfig(AppConfig):
    name = "geoportal"
    verbose_name = "Geoportal"

    def ready(self) -> None:
        # Invalid config files stop start-up here, naming file, key and problem.
        from geoportal.config import project_config

        project_config()
        # The tile cache's public tree follows every committed layer change (layers.signals).
        from geoportal.tiles import public  # noqa: F401
