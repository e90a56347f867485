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
# A worker that has not answered in this long is killed and replaced. Every request's own work
# is bounded well below it: a database statement by DATABASE_STATEMENT_TIMEOUT (10 s), a
# connection to PostgreSQL by DATABASE_CONNECT_TIMEOUT (3 s), each Redis call by REDIS_TIMEOUT
# (0.5 s), each S3 call by AWS_S3_CONNECT_TIMEOUT + AWS_S3_READ_TIMEOUT (3 + 5 s, one retry),
# and an upload's image processing by the picture limits (docs/reliability.md gives the
# measured worst case). So the timeout only ever ends a worker that is truly stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM or SIGHUP, workers get this long to finish their requests (graceful restart): as
# long as the longest request may take, so a restart cuts none short.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then so a slow leak, or the memory a large picture's decoding left
# behind in the allocator, cannot grow without bound; the jitter keeps workers from all
# restarting at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The request line and headers are bounded (gunicorn's defaults, stated); request bodies are
# bounded by RequestBodyLimitMiddleware before anything reads them.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# Workers' heartbeat files on tmpfs where there is one, so a slow disk cannot make gunicorn
# take a busy worker for a stuck one.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
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
