"""Planning in a run (``kurszugang plan``): the tables and layers of :mod:`kurszugang.schema`'s
``plan`` group, from :mod:`kurszugang.analysis.plan` on the run's inputs and settings.

For every course format of ``[plan] formats`` (or, where none is given, every format of the
course list: course type, weekdays, start, end and childcare of its courses), on the school day:

- the candidates (existing sites, the user's list, or each Gemeinde's best-served stop);
- **where**: the best ``k`` sites for ``k = 1 … plan.k_max`` with the minimum class size, exact
  (HiGHS); the **proposal** of a format is the smallest feasible ``k`` whose coverage is within
  one person of the best feasible coverage;
- **when**: the participants who can attend at each existing site of the course type and each
  proposed site, for start times from ``plan.sweep_from`` to ``plan.sweep_to``;
- **how soon**: the expected weeks to a class start per ``k`` (inflow model), and the rotation
  of ``plan.rotation`` where one is given.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kurszugang.analysis import plan as pl
from kurszugang.config import parse_format_text
from kurszugang.crs import ANALYSIS_CRS
from kurszugang.dates import parse_clock
from kurszugang.results import Table, build_table

if TYPE_CHECKING:
    from kurszugang.analysis.context import RunContext

log = logging.getLogger(__name__)

__all__ = ["FormatPlan", "PlanRun", "plan_run"]


@dataclass(frozen=True, eq=False)
class FormatPlan:
    """Everything planned for one format."""

    label: str
    course_format: pl.CourseFormat
    coverage: pl.FormatCoverage
    sites: pl.SitePlan
    proposal_k: int | None
    sweeps: tuple[pl.StartSweep, ...]
    rotation: pl.Rotation | None

    @property
    def proposal_ids(self) -> list[str]:
        if self.proposal_k is None:
            return []
        rows = self.sites.sites
        return rows.loc[rows["k"] == self.proposal_k, "candidate_id"].astype(str).tolist()


def _formats(ctx: RunContext) -> list[pl.CourseFormat]:
    """The formats to plan: ``plan.formats``, or every format of the course list."""
    given = ctx.cfg.plan.formats
    if given:
        out = []
        for text in given:
            ctype, days, start, end, care = parse_format_text(text)
            out.append(pl.CourseFormat.parse(ctype, days, start, end, childcare=care))
        return out
    c = ctx.inputs.courses.courses
    uniq = c.drop_duplicates(["course_type", "weekday_mask", "start_time", "end_time",
                              "childcare"]).sort_values(["course_type", "start_time",
                                                         "weekday_mask"])
    return [pl.CourseFormat(str(t), int(m), int(a), int(b), bool(care))
            for t, m, a, b, care in zip(uniq["course_type"].to_numpy(),
                                        uniq["weekday_mask"].to_numpy(np.int64),
                                        uniq["start_time"].to_numpy(np.int64),
                                        uniq["end_time"].to_numpy(np.int64),
                                        uniq["childcare"].to_numpy(bool), strict=True)]


def _proposal(per_k: pd.DataFrame) -> int | None:
    ok = per_k[per_k["status"] == "optimal"]
    if not len(ok):
        return None
    best = float(ok["participants_covered"].max())
    return int(ok.loc[ok["participants_covered"] >= best - 1.0, "k"].min())


def _sweep_sites(ctx: RunContext, fmt: pl.CourseFormat, candidates: pd.DataFrame,
                 proposal: list[str]) -> list[str]:
    courses = ctx.inputs.courses.courses
    existing = courses.loc[courses["course_type"] == fmt.course_type, "site_id"].astype(str)
    ids = list(dict.fromkeys([*existing, *proposal]))
    known = set(candidates["candidate_id"].astype(str))
    return [i for i in ids if i in known]


@dataclass(frozen=True, eq=False)
class PlanRun:
    """The plan of a run: candidates and one :class:`FormatPlan` per format."""

    ctx: RunContext

    @cached_property
    def candidates(self) -> pd.DataFrame:
        cfg = self.ctx.cfg
        return pl.plan_candidates(self.ctx.inputs.gemeinden, courses=self.ctx.inputs.courses,
                                  candidate_file=cfg.path(cfg.plan.candidates),
                                  router=self.ctx.pool.get(self.ctx.school_day))

    @cached_property
    def formats(self) -> list[FormatPlan]:
        out: list[FormatPlan] = []
        for fmt in _formats(self.ctx):
            def one(f: pl.CourseFormat = fmt) -> FormatPlan:
                return self._plan(f)

            out.append(self.ctx.stage(f"Planung {fmt}", one))
        return out

    def _cells(self, course_type: str) -> gpd.GeoDataFrame:
        """The cells with the share of their participants who need ``course_type``."""
        share = float(self.ctx.cfg.plan.type_share.get(course_type, 1.0))
        cells = self.ctx.cells
        return cells if share == 1.0 else cells.assign(participants=cells["participants"] * share)

    def _plan(self, fmt: pl.CourseFormat) -> FormatPlan:
        ctx, p, c = self.ctx, self.ctx.cfg.plan, self.ctx.cfg.coverage
        cells = self._cells(fmt.course_type)
        cov = pl.format_coverage(ctx.pool, cells, self.candidates, fmt, ctx.school_day,
                                 threshold_min=c.threshold_min,
                                 early_arrival_min=c.early_arrival_min)
        sites = pl.best_sites(cov, k_max=p.k_max, min_class_size=c.min_class_size,
                              keep_existing=p.keep_existing,
                              inflow_share_per_month=p.inflow_share_per_month,
                              time_limit_s=p.time_limit_s)
        k = _proposal(sites.per_k)
        plan = FormatPlan(str(fmt), fmt, cov, sites, k, (), None)
        starts = list(range(parse_clock(p.sweep_from), parse_clock(p.sweep_to) + 1,
                            p.sweep_step_min * 60))
        ids = self.candidates["candidate_id"].astype(str).to_numpy()
        rows = {sid: self.candidates.iloc[int(np.flatnonzero(ids == sid)[0])]
                for sid in _sweep_sites(ctx, fmt, self.candidates, plan.proposal_ids)}
        sweeps = tuple(pl.start_time_sweep(ctx.pool, cells, row, fmt,
                                           ctx.school_day, starts=sorted({*starts,
                                                                          fmt.start_time}),
                                           threshold_min=c.threshold_min,
                                           early_arrival_min=c.early_arrival_min)
                       for row in rows.values())
        rot = (pl.rotation(cov, list(p.rotation), term_weeks=p.term_weeks,
                           min_class_size=c.min_class_size) if p.rotation else None)
        for note in [*cov.notes, *sites.notes]:
            log.info("%s: %s", fmt, note)
        return FormatPlan(str(fmt), fmt, cov, sites, k, sweeps, rot)


def plan_run(ctx: RunContext) -> PlanRun:
    """The run's plan, computed once per context."""
    if not hasattr(ctx, "_plan_run"):
        ctx._plan_run = PlanRun(ctx)  # type: ignore[attr-defined]
    run: PlanRun = ctx._plan_run  # type: ignore[attr-defined]
    return run


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


# --- producers -------------------------------------------------------------------------------


def candidates_table(ctx: RunContext) -> Table:
    """Producer of ``plan_kandidaten``."""
    cands = plan_run(ctx).candidates
    return build_table("plan_kandidaten", cands[list(pl.CANDIDATE_COLUMNS)])


def sites_table(ctx: RunContext) -> Table:
    """Producer of ``plan_standorte``: per format and k."""
    frames = []
    for fp in plan_run(ctx).formats:
        t = fp.sites.per_k.copy()
        t.insert(0, "course_type", fp.course_format.course_type)
        t.insert(0, "format", fp.label)
        t["share_covered"] = 100.0 * t["share_covered"].astype(float)
        t["recommended"] = t["k"] == (fp.proposal_k if fp.proposal_k is not None else -1)
        frames.append(t)
    cols = ["format", "course_type", *pl.PER_K_COLUMNS, "recommended"]
    return build_table("plan_standorte", _concat(frames, cols)[cols])


def site_rows_table(ctx: RunContext) -> Table:
    """Producer of ``plan_standorte_orte``: per format, k and chosen site."""
    frames = [fp.sites.sites.assign(format=fp.label) for fp in plan_run(ctx).formats]
    cols = ["format", *pl.SITE_COLUMNS]
    return build_table("plan_standorte_orte", _concat(frames, cols)[cols])


def coverage_table(ctx: RunContext) -> Table:
    """Producer of ``plan_abdeckung``: everything needed to re-solve each format's optimum."""
    frames = [fp.coverage.abdeckung().assign(format=fp.label) for fp in plan_run(ctx).formats]
    cols = ["format", *pl.ABDECKUNG_COLUMNS]
    return build_table("plan_abdeckung", _concat(frames, cols)[cols])


def start_times_table(ctx: RunContext) -> Table:
    """Producer of ``plan_startzeiten``."""
    frames = []
    for fp in plan_run(ctx).formats:
        for sw in fp.sweeps:
            d = sw.district
            frames.append(pd.DataFrame({
                "format": fp.label, "candidate_id": sw.candidate_id, "start": d["start"],
                "end": d["end"], "participants": d["participants"].astype(float),
                "share": 100.0 * d["share"].astype(float),
                "current": d["start_time"].to_numpy() == fp.course_format.start_time}))
    cols = ["format", "candidate_id", "start", "end", "participants", "share", "current"]
    return build_table("plan_startzeiten", _concat(frames, cols)[cols])


def start_times_gemeinden_table(ctx: RunContext) -> Table:
    """Producer of ``plan_startzeiten_gemeinden``."""
    frames = []
    for fp in plan_run(ctx).formats:
        for sw in fp.sweeps:
            g = sw.gemeinden
            frames.append(pd.DataFrame({
                "format": fp.label, "candidate_id": sw.candidate_id, "start": g["start"],
                "ags": g["ags"], "gen": g["gen"], "participants": g["participants"],
                "participants_total": g["participants_total"],
                "share": 100.0 * g["share"].astype(float)}))
    cols = ["format", "candidate_id", "start", "ags", "gen", "participants",
            "participants_total", "share"]
    return build_table("plan_startzeiten_gemeinden", _concat(frames, cols)[cols])


def waiting_table(ctx: RunContext) -> Table:
    """Producer of ``plan_wartezeit``: the dilemma per format and k."""
    frames = []
    for fp in plan_run(ctx).formats:
        t = fp.sites.per_k
        frames.append(pd.DataFrame({
            "format": fp.label, "k": t["k"],
            "share_covered": 100.0 * t["share_covered"].astype(float),
            "median_travel_min": t["median_travel_min"],
            "weeks_to_start_mean": t["weeks_to_start_mean"],
            "mean_wait_weeks": t["mean_wait_weeks"]}))
    cols = ["format", "k", "share_covered", "median_travel_min", "weeks_to_start_mean",
            "mean_wait_weeks"]
    return build_table("plan_wartezeit", _concat(frames, cols)[cols])


def rotation_table(ctx: RunContext) -> Table:
    """Producer of ``plan_rotation`` (empty without ``plan.rotation``)."""
    cols = ["format", "term", "start_week", "candidate_id", "name", "participants",
            "new_participants", "reaches_min"]
    frames = [fp.rotation.terms.assign(format=fp.label) for fp in plan_run(ctx).formats
              if fp.rotation is not None]
    return build_table("plan_rotation", _concat(frames, cols)[cols])


def rotation_gemeinden_table(ctx: RunContext) -> Table:
    """Producer of ``plan_rotation_gemeinden`` (empty without ``plan.rotation``)."""
    cols = ["format", "ags", "gen", "participants", "share_covered_year", "first_turn_week",
            "mean_wait_weeks"]
    frames = []
    for fp in plan_run(ctx).formats:
        if fp.rotation is not None:
            g = fp.rotation.gemeinden.assign(format=fp.label)
            g["share_covered_year"] = 100.0 * g["share_covered_year"].astype(float)
            frames.append(g)
    return build_table("plan_rotation_gemeinden", _concat(frames, cols)[cols])


def proposals_layer(ctx: RunContext) -> Table:
    """Producer of ``plan_vorschlaege``: the proposed sites of every format."""
    run = plan_run(ctx)
    cands = run.candidates.set_index(run.candidates["candidate_id"].astype(str))
    frames = []
    for fp in run.formats:
        rows = fp.sites.sites
        rows = rows[rows["k"] == fp.proposal_k]
        frames.append(pd.DataFrame({
            "format": fp.label, "k": rows["k"], "candidate_id": rows["candidate_id"],
            "name": rows["name"], "source": rows["source"],
            "participants_assigned": rows["participants_assigned"],
            "weeks_to_start": rows["weeks_to_start"]}))
    cols = ["format", "k", "candidate_id", "name", "source", "participants_assigned",
            "weeks_to_start"]
    table = _concat(frames, cols)[cols]
    ids = table["candidate_id"].astype(str)
    geom = gpd.points_from_xy(ids.map(cands["x"]).astype(float), ids.map(cands["y"]).astype(float))
    return build_table("plan_vorschlaege", gpd.GeoDataFrame(table, geometry=geom,
                                                            crs=ANALYSIS_CRS))


def proposal_catchments_layer(ctx: RunContext) -> Table:
    """Producer of ``plan_einzugsbereiche``: per format and proposed site, the union of the
    cells that can attend it there."""
    run = plan_run(ctx)
    cells = ctx.cells.set_index(ctx.cells["cell_id"].astype(str)).to_crs(ANALYSIS_CRS)
    rows: list[dict[str, object]] = []
    for fp in run.formats:
        cov = fp.coverage
        att = cov.attend()
        ids = cov.candidates["candidate_id"].astype(str).to_numpy()
        for sid in fp.proposal_ids:
            j = int(np.flatnonzero(ids == sid)[0])
            members = cov.cells["cell_id"].astype(str).to_numpy()[att[:, j]]
            geom = shapely.union_all(np.asarray(cells.loc[members].geometry.values)) \
                if len(members) else shapely.MultiPolygon()
            rows.append({"format": fp.label, "candidate_id": sid,
                         "name": str(cov.candidates["name"].iloc[j]),
                         "participants": float(cov.cells["participants"].to_numpy()[att[:, j]]
                                               .sum()), "n_cells": int(len(members)),
                         "geometry": geom})
    frame = gpd.GeoDataFrame(rows or {"format": [], "candidate_id": [], "name": [],
                                      "participants": [], "n_cells": [], "geometry": []},
                             geometry="geometry", crs=ANALYSIS_CRS)
    return build_table("plan_einzugsbereiche", frame)
