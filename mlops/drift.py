"""Drift and quality measures of live values against a training profile (``registry.profiles``)."""

import math

from registry.profiles import bin_shares

EPSILON = 1e-4
KS_SAMPLE = 5000


def psi(expected, actual):
    """Population stability index between two lists of shares (bins or categories, same order)."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, EPSILON), max(a, EPSILON)
        total += (a - e) * math.log(a / e)
    return total


def numeric_drift(profile, series, seed=0):
    """``(psi, ks_p_value, out_of_range_share)`` of a numeric series against its column profile."""
    import numpy as np
    import pandas as pd
    from scipy.stats import ks_2samp

    values = pd.to_numeric(series, errors="coerce").dropna().to_numpy(dtype=float)
    if not len(values):
        return None, None, 0.0
    shares = bin_shares(values, profile["edges"])
    value = psi(profile["shares"], shares)
    p_value = None
    if profile.get("sample"):
        current = values
        if len(current) > KS_SAMPLE:
            current = np.random.default_rng(seed).choice(current, KS_SAMPLE, replace=False)
        p_value = float(ks_2samp(profile["sample"], current).pvalue)
    outside = float(((values < profile["min"]) | (values > profile["max"])).mean()) if "min" in profile else 0.0
    return value, p_value, outside


def categorical_drift(profile, series):
    """PSI of a categorical series against its profile; values unseen in training are one "other" category."""
    present = series.dropna().astype(str)
    if not len(present):
        return None
    current = present.value_counts(normalize=True).to_dict()
    categories = list(profile["shares"])
    expected = [profile["shares"][name] for name in categories] + [max(0.0, 1 - sum(profile["shares"].values()))]
    actual = [current.get(name, 0.0) for name in categories]
    actual.append(max(0.0, 1 - sum(actual)))
    return psi(expected, actual)


def drift_of(profile, series):
    """``(psi, ks_p_value, out_of_range_share)`` for any column profile."""
    if profile["type"] == "numeric":
        return numeric_drift(profile, series)
    return categorical_drift(profile, series), None, 0.0
