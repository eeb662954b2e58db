"""Run as ``python -m tests.portal.backup_reader USERNAME MODEL_SLUG ISSUE_UUID MODEL_URI`` against a restored
portal (its DATABASE_URL, MEDIA_ROOT, DATA_ROOT and MLflow settings in the environment): prints, as JSON, what that
person sees (the model page, the issue page and its attachment) and what the restored model predicts."""

import hashlib
import json
import os
import sys

import django


def _sha256(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return hashlib.sha256(content).hexdigest()


def main(username, slug, issue_uuid, model_uri):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    import mlflow
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    model_page = client.get(f"/models/{slug}/")
    issue_page = client.get(f"/issues/{issue_uuid}/")
    attachment = client.get(f"/issues/{issue_uuid}/attachment/")
    mlflow.set_tracking_uri(settings.MLFLOW_TRACKING_URI)
    predictions = mlflow.pyfunc.load_model(model_uri).predict([[0.0], [3.0]])
    print(json.dumps({
        "model_page": [model_page.status_code, model_page.content.decode()],
        "issue_page": [issue_page.status_code, issue_page.content.decode()],
        "attachment": [attachment.status_code, _sha256(attachment)],
        "predictions": [int(value) for value in predictions],
    }))  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:])
