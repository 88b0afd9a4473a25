from tests.incidents.conftest import as_user, tenant_user  # noqa: F401
