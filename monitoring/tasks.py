import socket

from celery import shared_task
from django.db import connection


@shared_task
def worker_health():
    """Proves a worker is alive and can reach the database; the monitoring page and the tests use it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        database_ok = cursor.fetchone() == (1,)
    return {"hostname": socket.gethostname(), "database": "ok" if database_ok else "unreachable"}
