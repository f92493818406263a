"""What a reconstruction aims at: the printed numbers (read through the audit of `src.paper.audit`) and how
far a computed value lies from one, in units of its last printed digit."""
from __future__ import annotations

import numpy as np

from src.paper import audit

MARGIN = 0.3  # aim at the central 40% of each rounding interval
RANK_MARGIN = 0.45  # the rank stage aims anywhere inside the rounding interval (numbers stay clear of its edge)


def load_targets(path=None) -> tuple[dict, dict, dict]:
    """Published values (id -> float), decimals, and the ids not to calibrate to.

    Values are the best-supported reading of `src.audit` (corrected counts);
    ids the audit proves inconsistent with the others are left out of the loss.
    """
    pub = audit.published_by_id(path)
    values = pub["value"].to_dict()
    values.update(audit.best_reading(pub))
    skip = audit.unreproducible(pub)
    return values, pub["decimals"].astype(int).to_dict(), skip


def distance(x, target, decimals) -> float:
    """How far x lies outside the central part of the rounding interval, in rounding units."""
    q = 10.0 ** -decimals
    if not np.isfinite(x):
        return 50.0
    return max(0.0, abs(x - target) - MARGIN * q) / q


def distances(x, target, decimals, margin=MARGIN) -> np.ndarray:
    """`distance` for arrays."""
    q = 10.0 ** -decimals
    return np.where(np.isfinite(x), np.maximum(0.0, np.abs(x - target) - margin * q) / q, 50.0)
