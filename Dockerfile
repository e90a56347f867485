# NPU web image: gunicorn serving Django; whitenoise serves the hashed, compressed static files.
# Build: docker build -t npu .   Run: see compose.yaml and docs/deploy.md.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin npu
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=npu:npu . .
# collectstatic only imports the settings; this key is used for nothing else and not kept.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/media && chown npu:npu /app/media
USER npu
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# Migrations are not run here: compose.yaml runs them once in the `migrate` service.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "npu_site.wsgi"]
