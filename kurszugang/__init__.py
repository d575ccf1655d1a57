"""kurszugang: who can reach which integration course by public transport, at course times.

A user's script needs only ``import kurszugang as kz``; the public API is re-exported here.
"""

from __future__ import annotations

import logging

from kurszugang.errors import (
    DataValidationError,
    InputError,
    InputFormatError,
    KurszugangError,
    RoutingError,
    ServiceDateError,
)
from kurszugang.io import ValidationReport, detect_kind, validate

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "__version__",
    "DataValidationError",
    "InputError",
    "InputFormatError",
    "KurszugangError",
    "RoutingError",
    "ServiceDateError",
    "ValidationReport",
    "detect_kind",
    "validate",
]
