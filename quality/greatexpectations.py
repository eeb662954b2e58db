"""Great Expectations validation results in: the JSON of an ``ExpectationSuiteValidationResult`` (what
``validation_definition.run()`` or a checkpoint returns, ``result.to_json_dict()``), posted with the dataset it
validated to ``POST /api/v1/integrations/great-expectations/``. Each expectation becomes a check on the dataset
(and its column), each validation one result per check.
"""

import hashlib
import json
from datetime import datetime

from django.utils import timezone

from quality import results
from quality.choices import CheckOrigin, CheckStatus, Severity


class MalformedValidation(ValueError):
    """The body is not a validation result; the message says which part. Nothing was recorded."""


def _moment(meta):
    value = meta.get("validation_time") or (meta.get("run_id") or {}).get("run_time")
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else timezone.now()
    except ValueError:
        raise MalformedValidation("meta.validation_time must be an ISO 8601 date and time.") from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.utc)


def _observation(asset_id, suite, run_key, moment, index, item):
    where = f"results[{index}]"
    if not isinstance(item, dict) or not isinstance(item.get("success"), bool):
        raise MalformedValidation(f"{where} must be an object with success true or false.")
    config = item.get("expectation_config")
    if not isinstance(config, dict) or not isinstance(config.get("type"), str):
        raise MalformedValidation(f"{where}.expectation_config.type is required.")
    kwargs = config.get("kwargs") if isinstance(config.get("kwargs"), dict) else {}
    column = str(kwargs.get("column") or "")
    settings = {key: value for key, value in kwargs.items() if key not in ("batch_id", "column")}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:8]
    outcome = item.get("result") if isinstance(item.get("result"), dict) else {}
    raised = bool((item.get("exception_info") or {}).get("raised_exception"))
    severity = Severity.ERROR if str(config.get("severity") or "critical") == "critical" else Severity.WARN
    if raised:
        status = CheckStatus.ERROR
    elif item["success"]:
        status = CheckStatus.PASS
    else:
        status = CheckStatus.FAIL if severity == Severity.ERROR else CheckStatus.WARN
    unexpected = outcome.get("unexpected_count")
    return results.Observation(
        asset_id=asset_id,
        key=f"{suite}:{config['type']}:{column}:{digest}",
        name=f"{config['type']}" + (f" ({column})" if column else ""),
        column=column,
        check_type=config["type"],
        severity=severity,
        sql=json.dumps(settings, sort_keys=True, default=str) if settings else "",
        run_key=run_key,
        status=status,
        failures=unexpected if isinstance(unexpected, int) else None,
        message=str((item.get("exception_info") or {}).get("exception_message") or ""),
        executed_at=moment,
    )


def record_validation(asset, validation):
    """Record one validation result on ``asset`` (a dataset); returns what ``results.record`` returns."""
    if not isinstance(validation, dict) or not isinstance(validation.get("results"), list):
        raise MalformedValidation("The result must be a Great Expectations validation result with 'results'.")
    meta = validation.get("meta") if isinstance(validation.get("meta"), dict) else {}
    suite = str(validation.get("suite_name") or meta.get("expectation_suite_name") or "suite")[:100]
    moment = _moment(meta)
    run_key = str(meta.get("validation_id") or moment.isoformat())
    observations = [
        _observation(asset.pk, suite, run_key, moment, index, item) for index, item in enumerate(validation["results"])
    ]
    return results.record(observations, origin=CheckOrigin.GREAT_EXPECTATIONS)
