"""kurszugang: who can reach which integration course by public transport, at course times.

A user's script needs only ``import kurszugang as kz``; the public API is listed once, in
``__init__.pyi``, and each name is loaded on first use (so that ``import kurszugang`` and the
command line start quickly).

Examples
--------
>>> import kurszugang as kz
>>> "Router" in dir(kz) and kz.Router.__module__
'kurszugang.routing.router'
"""

from __future__ import annotations

import logging

import lazy_loader as lazy

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
__all__ = [*__all__, "__version__"]
