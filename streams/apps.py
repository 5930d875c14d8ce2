from django.apps import AppConfig


class StreamsConfig(AppConfig):
    name = "streams"
    verbose_name = "Live streams"

    def ready(self) -> None:
        from streams.auth import connect_signals

        connect_signals()
