from celery import shared_task

from tenants.models import Region
from tenants.services import tenant_provision


@shared_task(name="tenants.provision", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def tenant_provision_task(region_code: str, is_demo: bool = False) -> str:
    region = Region.objects.get(code=region_code)
    return tenant_provision(region=region, is_demo=is_demo).tenant.schema_name
