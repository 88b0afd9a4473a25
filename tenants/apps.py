from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Pemda tenants and regions"

    def ready(self) -> None:
        from tenants.hosts import connect_signals

        connect_signals()
