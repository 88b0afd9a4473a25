"""The one Celery app. Tasks run in the schema of the tenant that enqueued them
(tenant-schemas-celery puts the schema in the message headers)."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga112.settings")

app = CeleryApp("siaga112")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The project package is not an installed app; its tasks module is listed by hand.
app.autodiscover_tasks(["siaga112"])
