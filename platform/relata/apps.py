from django.apps import AppConfig


class RelataConfig(AppConfig):
    name = "relata"
    verbose_name = "Relata"

    def ready(self) -> None:
        # Registers the Celery signal handlers that count task outcomes, in every process.
        from relata import metrics  # noqa: F401
