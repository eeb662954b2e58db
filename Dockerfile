# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORTAL_VAR_DIR=/var/lib/portal
WORKDIR /app
# pg_dump and pg_restore for `manage.py backup` and `restore` (Debian 12's client is 15, as the postgres service).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input -v0
# The volumes' mount points, owned by the user the processes run as (a new named volume copies this ownership).
RUN useradd --system portal && mkdir -p /var/lib/portal /data /mlartifacts && chown portal /var/lib/portal /data /mlartifacts
USER portal
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2"]
