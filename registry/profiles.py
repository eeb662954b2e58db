"""The reference profile of a version's training data: what monitoring compares live inputs and predictions with.

Written once, at training (``registry.training``) or by a caller that registers a version with its data; read by
the MLOps monitoring job. Numeric columns keep decile edges with the share of rows in each bin, their range and a
sample of values (for a KS test); categorical columns keep the share of each value. Both keep the missing rate.
"""

import math

BINS = 10
SAMPLE = 500
MAX_CATEGORIES = 50


def _finite(values):
    return [float(value) for value in values if value is not None and math.isfinite(float(value))]


def column_profile(series, seed=0):
    """The profile of one pandas Series."""
    import numpy as np
    import pandas as pd

    total = len(series)
    missing = float(series.isna().mean()) if total else 0.0
    present = series.dropna()
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = present.astype(float).to_numpy()
        if not len(values):
            return {"type": "numeric", "missing_rate": missing, "edges": [], "shares": [], "sample": []}
        edges = sorted(set(np.quantile(values, np.linspace(0, 1, BINS + 1))[1:-1].round(10).tolist()))
        shares = bin_shares(values, edges)
        rng = np.random.default_rng(seed)
        sample = values if len(values) <= SAMPLE else rng.choice(values, SAMPLE, replace=False)
        return {
            "type": "numeric",
            "missing_rate": missing,
            "min": float(values.min()),
            "max": float(values.max()),
            "mean": float(values.mean()),
            "edges": edges,
            "shares": shares,
            "sample": _finite(sample.tolist()),
        }
    shares = present.astype(str).value_counts(normalize=True)
    return {
        "type": "categorical",
        "missing_rate": missing,
        "shares": {str(key): float(value) for key, value in shares.head(MAX_CATEGORIES).items()},
    }


def bin_shares(values, edges):
    """The share of ``values`` (a numpy array) in each bin cut at ``edges`` (bins open at both ends)."""
    import numpy as np

    if not len(values):
        return [0.0] * (len(edges) + 1)
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return (counts / len(values)).tolist()


def build_profile(features_frame, predictions=None, scores=None):
    """``{"rows", "features": {name: profile}, "prediction": profile, "score": profile}`` for training inputs and
    the model's own outputs on them."""
    import pandas as pd

    profile = {
        "rows": len(features_frame),
        "features": {name: column_profile(features_frame[name]) for name in features_frame.columns},
    }
    if predictions is not None:
        profile["prediction"] = column_profile(pd.Series(predictions))
    if scores is not None:
        profile["score"] = column_profile(pd.Series(scores, dtype=float))
    return profile
