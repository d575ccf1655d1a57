"""The docstring examples of the package run as doctests, on the bundled demo district.

Every module under ``kurszugang`` is searched with :class:`doctest.DocTestFinder`; each docstring
with examples is one test (its id names the function). The examples run in a temporary working
directory with shared globals that hold the demo district's inputs, so they use real files and
show real outputs:

``demo``
    :func:`kurszugang.demo.demo_files`, the paths of the bundled inputs.
``KREIS``, ``SCHOOL_DAY``, ``HOLIDAY``
    the demo's Kreis key ``09999``, its school day and its school-holiday weekday.
``gemeinden``, ``kreis``, ``feed``, ``courses``, ``population``, ``walk`` (also ``net``), ``cells``
    the demo's inputs read once per session with the package's readers (only read when a
    docstring uses the name).
``grid``
    the whole analysis grid (100 m, also the unpopulated cells); ``cells`` only the populated.
``router``
    one :class:`~kurszugang.routing.router.Router` of the demo feed for ``SCHOOL_DAY`` (straight
    walking legs).
``pool``, ``access``, ``surface``
    a :class:`~kurszugang.analysis.coverage.RouterPool` of the demo feed and walking network,
    the course access of ``cells`` on ``SCHOOL_DAY``, the travel-time surface of site ``KS01``
    (arriving by 08:30) on ``grid``.
``cands``, ``fmt``, ``cov``
    the planning candidates (:func:`~kurszugang.analysis.plan.plan_candidates`), the format
    ``alpha Mo-Fr 08:30-12:45`` and its coverage on ``SCHOOL_DAY``.
``ZUG_FEED``
    the real Zug feed in ``../shared/data``; a docstring that uses it is skipped when it is
    absent.

An example keeps ``# doctest: +SKIP`` only where it truly cannot run offline in a test (a
download; the whole demo with every output, or a Dask cluster running several districts, which
take far longer than a docstring should) and says why on the line before.
"""

from __future__ import annotations

import ast
import doctest
import functools
import importlib
import io
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import kurszugang

from .conftest import SHARED_DATA

# Others are editing these modules' docstrings; they are left out of this harness for now.
EXCLUDED_MODULES = {
    "kurszugang.output.webmap",
    "kurszugang.output._webmap_script",
    "kurszugang.state",
    "kurszugang.output.state",
    # Running the module runs the command line.
    "kurszugang.__main__",
}

OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

#: Real data a docstring may use (name in the globs -> path); skipped with a reason if absent.
SHARED_FILES = {
    "ZUG_FEED": SHARED_DATA / "gtfs-ch-kanton-zug-2021" / "gtfs_ch_zg_2021.zip",
}


def _modules() -> list[str]:
    names = ["kurszugang"]
    for info in pkgutil.walk_packages(kurszugang.__path__, prefix="kurszugang."):
        if info.name not in EXCLUDED_MODULES:
            names.append(info.name)
    return sorted(names)


def _doctests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    found: list[doctest.DocTest] = []
    for name in _modules():
        module = importlib.import_module(name)
        found.extend(t for t in finder.find(module) if t.examples)
    return sorted(found, key=lambda t: t.name)


DOCTESTS = _doctests()


# --- the shared globals: each built once per session, and only when a docstring uses it --------


@functools.cache
def _demo() -> Any:
    from kurszugang.demo import demo_files

    return demo_files()


@functools.cache
def _gemeinden() -> Any:
    from kurszugang.io.boundaries import read_boundaries

    return read_boundaries(_demo().boundaries, layer="vg250_gem", kreis="09999")


@functools.cache
def _kreis() -> Any:
    from kurszugang.io.boundaries import read_boundaries

    return read_boundaries(_demo().boundaries, layer="vg250_krs")


@functools.cache
def _feed() -> Any:
    from kurszugang.io.gtfs import read_gtfs

    return read_gtfs(_demo().gtfs)


@functools.cache
def _courses() -> Any:
    from kurszugang.io.courses import read_courses

    return read_courses(_demo().courses)


@functools.cache
def _population() -> Any:
    from kurszugang.io.population import read_population_grid

    return read_population_grid(_demo().population)


@functools.cache
def _walk() -> Any:
    from kurszugang.io.osm import read_walk_network

    return read_walk_network(_demo().osm)


@functools.cache
def _cells() -> Any:
    from kurszugang.analysis.grid import analysis_grid

    return analysis_grid(_gemeinden(), _population(), populated_only=True,
                         participant_factor=0.05)


@functools.cache
def _grid() -> Any:
    from kurszugang.analysis.grid import analysis_grid

    return analysis_grid(_gemeinden(), _population(), participant_factor=0.05)


@functools.cache
def _pool() -> Any:
    from kurszugang.analysis.coverage import RouterPool

    return RouterPool(_feed(), _walk())


@functools.cache
def _access() -> Any:
    from kurszugang.analysis.coverage import course_access
    from kurszugang.demo import SCHOOL_DAY

    return course_access(_pool(), _cells(), _courses(), SCHOOL_DAY)


@functools.cache
def _surface() -> Any:
    from kurszugang.analysis.catchments import travel_time_surface
    from kurszugang.demo import SCHOOL_DAY

    site = _courses().sites.set_index("site_id").geometry["KS01"]
    return travel_time_surface(_pool().get(SCHOOL_DAY), _grid(), (site.x, site.y),
                               arrive_by="08:30", site_id="KS01")


@functools.cache
def _cands() -> Any:
    from kurszugang.analysis.plan import plan_candidates
    from kurszugang.demo import SCHOOL_DAY

    return plan_candidates(_gemeinden(), courses=_courses(), router=_pool().get(SCHOOL_DAY))


@functools.cache
def _fmt() -> Any:
    from kurszugang.analysis.plan import CourseFormat

    return CourseFormat.parse("alpha", "Mo-Fr", "08:30", "12:45")


@functools.cache
def _cov() -> Any:
    from kurszugang.analysis.plan import format_coverage
    from kurszugang.demo import SCHOOL_DAY

    return format_coverage(_pool(), _cells(), _cands(), _fmt(), SCHOOL_DAY)


@functools.cache
def _router() -> Any:
    from kurszugang.demo import SCHOOL_DAY
    from kurszugang.routing.router import Router

    return Router(_feed(), SCHOOL_DAY)


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _school_day() -> Any:
    from kurszugang.demo import SCHOOL_DAY

    return SCHOOL_DAY


def _holiday() -> Any:
    from kurszugang.demo import HOLIDAY_WEEKDAY

    return HOLIDAY_WEEKDAY


GLOBS: dict[str, Callable[[], Any]] = {
    "demo": _demo,
    "KREIS": _constant("09999"),
    "SCHOOL_DAY": _school_day,
    "HOLIDAY": _holiday,
    "gemeinden": _gemeinden,
    "kreis": _kreis,
    "feed": _feed,
    "courses": _courses,
    "population": _population,
    "walk": _walk,
    "net": _walk,
    "cells": _cells,
    "router": _router,
    "grid": _grid,
    "pool": _pool,
    "access": _access,
    "surface": _surface,
    "cands": _cands,
    "fmt": _fmt,
    "cov": _cov,
}


def _names_used(test: doctest.DocTest) -> set[str]:
    """The names a docstring's examples use (without those it assigns itself)."""
    source = "\n".join(example.source for example in test.examples)
    assigned: set[str] = set()
    for example in test.examples:
        try:
            tree = ast.parse(example.source)
        except SyntaxError:
            continue
        assigned.update(node.id for node in ast.walk(tree)
                        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store))
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source)) - assigned


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_examples(test: doctest.DocTest, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    used = _names_used(test)
    globs = dict(test.globs)
    for name, path in SHARED_FILES.items():
        if name in used:
            if not path.exists():
                pytest.skip(f"real test data not available: {path} (see ../shared/data/MANIFEST.md)")
            globs[name] = path
    for name, make in GLOBS.items():
        if name in used:
            globs[name] = make()
    monkeypatch.chdir(tmp_path)
    test.globs = globs
    runner = doctest.DocTestRunner(verbose=False, optionflags=OPTIONFLAGS)
    report = io.StringIO()
    result = runner.run(test, out=report.write, clear_globs=True)
    assert result.failed == 0, report.getvalue()
