"""gunicorn settings for NPU: `gunicorn -c gunicorn.conf.py npu_site.wsgi`.

Every value can be overridden from the environment (or on the command line).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# The usual rule of thumb for sync workers; WEB_CONCURRENCY overrides it (e.g. in containers,
# where cpu_count() sees the host's cores rather than the container's share).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Long enough for a 10 MB upload to be re-encoded; a stuck worker is replaced after this.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM or SIGHUP, workers get this long to finish their requests (graceful restart).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Load the application before forking: faster worker start and shared memory pages.
preload_app = True
# Which peers gunicorn believes about the scheme (its own view of the request). Django itself
# trusts X-Forwarded-Proto from anyone (SECURE_PROXY_SSL_HEADER), so gunicorn must be reachable
# only through the proxy, and the proxy must overwrite that header.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The request id is the one RequestIdMiddleware puts in the X-Request-ID response header.
access_log_format = (
    '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s referer="%(f)s" agent="%(a)s"'
)
