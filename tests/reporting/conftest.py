"""The tenant-user fixtures of the incidents tests, shared."""

from tests.incidents.conftest import as_user, tenant_user  # noqa: F401
