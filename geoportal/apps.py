from django.apps import AppConfig


class GeoportalConfig(AppConfig):
    name = "geoportal"
    verbose_name = "Geoportal"

    def ready(self) -> None:
        # Invalid config files stop start-up here, naming file, key and problem.
        from geoportal.config import project_config

        project_config()
