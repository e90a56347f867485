"""The Celery application: background work (mail, notification fan-out, digests, periodic
refreshes) on workers fed by the broker (CELERY_BROKER_URL, by default REDIS_URL).

Its settings are the CELERY_* names in npu_site.settings. With no broker configured every task
runs inline, in the process that queues it (npu_site.background.enqueue), so a fresh machine
needs nothing installed. Workers: `celery -A npu_site worker`; the schedule: `celery -A npu_site
beat` (docs/deploy.md).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npu_site.settings")

app = Celery("npu_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's tasks.py.
app.autodiscover_tasks()
