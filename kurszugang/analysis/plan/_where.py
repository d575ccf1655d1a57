"""Where: maximal covering with a minimum class size, solved exactly as a mixed-integer program.

For ``k`` sites, with groups ``g`` of cells that can attend the same candidates (``P_g``
potential participants each) and ``N(g)`` the candidates group ``g`` can attend::

    maximise    sum_g P_g * z_g                         (participants covered)
    subject to  z_g <= sum over j in N(g) of y_j        (covered only by an open site)
                sum_j x_gj <= P_g           for every group     (each counted at one site)
                sum_g x_gj >= m * y_j       for every candidate (an open site draws the minimum)
                sum_j y_j  =  k
                y_j = 1 for fixed sites, y_j = 0 for ineligible ones
                y_j in {0, 1},  0 <= z_g <= 1,  x_gj >= 0 (only for j in N(g))

The ``x`` split participants so that every open site has ``m`` of its own. Once the open sites
can each draw the minimum, everyone else who can attend one of them can be added to it (a site
has no upper limit), so the optimum of a site set is the number of participants who can attend
at least one of its sites, or infeasible. HiGHS solves this formulation about 2.5 times faster
than the one that maximises the sum of ``x`` with ``x_gj <= P_g * y_j`` on a clustered test
instance and 1.4 times faster on a random one (``benchmarks/bench_plan.py``, CPU time).

HiGHS (:func:`scipy.optimize.milp`) solves it with a relative MIP gap of 0, i.e. to proven
optimality unless the time limit is hit (then ``status`` says so and ``mip_gap`` is the gap).
``x`` may split a group between sites (participants are expected counts, not persons).

Exactly ``k`` sites are opened: where ``k`` sites cannot each draw the minimum from separate
participants the problem is infeasible (``status`` "unzulässig"), and so is every larger ``k``.

Given the chosen sites, participants are assigned by a linear program that covers as many as the
optimum and, among such assignments, minimises the participant-weighted travel time (the longer
of the two legs): the assignment behind ``participants_assigned``, the median travel time and the
expected waits (:mod:`~kurszugang.analysis.plan._soon`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from kurszugang.analysis.nearest import weighted_median_by
from kurszugang.analysis.plan._coverage import FormatCoverage
from kurszugang.analysis.plan._soon import (
    DEFAULT_INFLOW_SHARE,
    _check_share,
    class_start_weeks,
    min_class_size_for,
)
from kurszugang.errors import ConfigError

log = logging.getLogger(__name__)

#: Columns of :attr:`SitePlan.per_k`, in order.
PER_K_COLUMNS = ("k", "candidate_ids", "participants_covered", "share_covered", "gain",
                 "participants_reachable", "status", "mip_gap", "min_class_size", "fixed_ids",
                 "median_travel_min", "weeks_to_start_mean", "weeks_to_start_max",
                 "mean_wait_weeks")
#: Columns of :attr:`SitePlan.sites`, in order.
SITE_COLUMNS = ("k", "candidate_id", "name", "source", "ags", "gen", "fixed",
                "participants_reachable", "participants_assigned", "median_travel_min",
                "weeks_to_start", "mean_wait_weeks")
#: Solver status (scipy's codes) as reported in ``status``.
STATUS = {0: "optimal", 1: "Limit erreicht", 2: "unzulässig", 3: "unbeschränkt", 4: "Fehler"}
#: Tolerances of the assignment LPs: participants are reported to about 1e-9 people.
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


@dataclass(frozen=True, eq=False)
class SitePlan:
    """The best sites for a format, for ``k = 1 ... K``, and what they mean for waits and trips.

    Attributes
    ----------
    per_k
        One row per ``k`` (:data:`PER_K_COLUMNS`): ``k``; ``candidate_ids`` (chosen, ``", "``
        separated, in candidate-table order); ``participants_covered`` (the optimum: people
        counted once each at a site that draws at least the minimum); ``share_covered`` (of
        :attr:`participants_total`); ``gain`` (over ``k - 1``; NaN for the first row unless it
        is ``k = 1``); ``participants_reachable`` (can attend at least one chosen site, without
        the minimum); ``status`` (optimal, unzulässig, Limit erreicht, ...); ``mip_gap``
        (relative; 0 when proven optimal, NaN without a solution); ``min_class_size``;
        ``fixed_ids``; ``median_travel_min`` (of the covered, the longer leg, weighted by
        participants, minutes); ``weeks_to_start_mean`` (participant-weighted mean over the
        sites of the weeks until a class starts), ``weeks_to_start_max`` (the slowest site) and
        ``mean_wait_weeks`` (mean wait from admission to start of a covered participant).
    sites
        One row per ``k`` and chosen site (:data:`SITE_COLUMNS`): ``candidate_id``, ``name``,
        ``source``, ``ags``, ``gen``, ``fixed`` (bool), ``participants_reachable`` (all who can
        attend it), ``participants_assigned`` (its pool in the assignment),
        ``median_travel_min``, ``weeks_to_start`` and ``mean_wait_weeks`` (inflow model).
    abdeckung
        The whole problem for re-checking: :meth:`FormatCoverage.abdeckung` (``candidate_id``,
        ``group_id``, ``participants``, ``covered``).
    participants_total
        Potential participants in the district (people).
    participants_coverable
        Of them, those who can attend the format at some eligible candidate.
    min_class_size, fixed, inflow_share_per_month
        The parameters used.
    notes
        Remarks (German): capped ``k``, fixed sites that cannot draw the minimum, ...
    """

    per_k: pd.DataFrame
    sites: pd.DataFrame
    abdeckung: pd.DataFrame
    participants_total: float
    participants_coverable: float
    min_class_size: int
    fixed: tuple[str, ...]
    inflow_share_per_month: float
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class _Problem:
    """The covering problem in flat arrays: groups, pairs and what the report needs."""

    coverage: FormatCoverage
    part: np.ndarray  # participants per group
    g: np.ndarray  # group index (0-based) of each pair
    j: np.ndarray  # candidate index of each pair
    tau: np.ndarray  # participant-weighted mean longer leg per pair (minutes)
    longer: np.ndarray  # (n_cells, n_candidates) longer leg, minutes (0 where none)
    eligible: np.ndarray

    @property
    def n_c(self) -> int:
        return len(self.eligible)


def _problem(coverage: FormatCoverage) -> _Problem:
    gid = coverage.cell_group
    g_att = coverage.group_attend
    part = coverage.groups["participants"].to_numpy(float)
    g, j = np.nonzero(g_att)
    longer = np.nan_to_num(np.maximum(coverage.time_there, coverage.time_back) / 60.0, nan=0.0)
    cells = np.flatnonzero(gid > 0)
    weights = coverage.cells["participants"].to_numpy(float)[cells]
    member = sp.csr_array((weights, (gid[cells] - 1, cells)), shape=(len(part), len(gid)))
    sums = np.asarray(member @ longer)
    tau = sums[g, j] / part[g]
    return _Problem(coverage, part, g, j, tau, longer,
                    coverage.candidates["eligible"].to_numpy(bool))


def _solve_milp(prob: _Problem, k: int, m: int, fixed: np.ndarray,
                time_limit_s: float) -> tuple[int, np.ndarray | None, float, str]:
    """(status code, chosen candidates or None, MIP gap, solver message) for ``k`` sites.

    Variables, in order: ``y_j`` (open, binary), ``z_g`` (covered, in [0, 1]) and ``x_gj``
    (participants of group ``g`` counted for the minimum at ``j``).
    """
    n_c, n_p, n_g = prob.n_c, len(prob.g), len(prob.part)
    n_v = n_c + n_g + n_p
    cand, grp = np.arange(n_c), np.arange(n_g)
    xv = n_c + n_g + np.arange(n_p)
    covered = sp.csr_array((np.r_[np.ones(n_g), -np.ones(n_p)],
                            (np.r_[grp, prob.g], np.r_[n_c + grp, prob.j])), shape=(n_g, n_v))
    once = sp.csr_array((np.ones(n_p), (prob.g, xv)), shape=(n_g, n_v))
    minimum = sp.csr_array((np.r_[np.ones(n_p), -float(m) * np.ones(n_c)],
                            (np.r_[prob.j, cand], np.r_[xv, cand])), shape=(n_c, n_v))
    count = sp.csr_array((np.ones(n_c), (np.zeros(n_c, dtype=np.int64), cand)), shape=(1, n_v))
    constraints = [LinearConstraint(covered, -np.inf, 0.0),
                   LinearConstraint(once, -np.inf, prob.part),
                   LinearConstraint(minimum, 0.0, np.inf),
                   LinearConstraint(count, k, k)]
    lower = np.r_[fixed.astype(float), np.zeros(n_g + n_p)]
    upper = np.r_[prob.eligible.astype(float), np.ones(n_g), prob.part[prob.g]]
    res = milp(np.r_[np.zeros(n_c), -prob.part, np.zeros(n_p)],
               integrality=np.r_[np.ones(n_c), np.zeros(n_g + n_p)],
               bounds=Bounds(lower, upper), constraints=constraints,
               options={"time_limit": float(time_limit_s), "mip_rel_gap": 0.0, "disp": False})
    if res.x is None:
        return int(res.status), None, float("nan"), str(res.message)
    gap = float(getattr(res, "mip_gap", np.nan))
    return int(res.status), res.x[:n_c] > 0.5, gap, str(res.message)


def _assign(prob: _Problem, chosen: np.ndarray, m: int) -> tuple[int, float, np.ndarray]:
    """(status, most participants, x per pair): the most participants the chosen sites can
    take, each at least ``m``, and an assignment achieving it with the shortest
    participant-weighted travel."""
    sel = np.flatnonzero(chosen[prob.j])
    x = np.zeros(len(prob.g))
    open_ = np.flatnonzero(chosen)
    if len(sel) == 0:
        return (0, 0.0, x) if len(open_) == 0 else (2, float("nan"), x)
    g_rows = pd.factorize(prob.g[sel])[0]
    n_g, n = int(g_rows.max()) + 1, len(sel)
    j_rows = pd.Index(open_).get_indexer(pd.Index(prob.j[sel]))
    a_groups = sp.csr_array((np.ones(n), (g_rows, np.arange(n))), shape=(n_g, n))
    a_min = sp.csr_array((-np.ones(n), (j_rows, np.arange(n))), shape=(len(open_), n))
    cap = np.zeros(n_g)
    cap[g_rows] = prob.part[prob.g[sel]]
    a_ub = sp.vstack([a_groups, a_min]).tocsr()
    b_ub = np.r_[cap, -float(m) * np.ones(len(open_))]
    bounds = np.column_stack([np.zeros(n), prob.part[prob.g[sel]]])
    first = linprog(-np.ones(n), A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs",
                    options=_LP_OPTIONS)
    if first.status != 0:
        return int(first.status), float("nan"), x
    best = -float(first.fun)
    second = linprog(prob.tau[sel], A_ub=sp.vstack([a_ub, -sp.csr_array(np.ones((1, n)))]),
                     b_ub=np.r_[b_ub, -best * (1 - 1e-12)], bounds=bounds, method="highs",
                     options=_LP_OPTIONS)
    x[sel] = second.x if second.status == 0 else first.x
    return 0, best, x


def _medians(prob: _Problem, x: np.ndarray) -> tuple[float, pd.Series]:
    """Median longer leg (minutes) of the assigned participants: overall and per site."""
    gid = prob.coverage.cell_group
    part = prob.coverage.cells["participants"].to_numpy(float)
    valid = np.flatnonzero(gid > 0)
    order = valid[np.argsort(gid[valid], kind="stable")]
    counts = np.bincount(gid[valid] - 1, minlength=len(prob.part))
    starts = np.cumsum(counts) - counts
    pairs = np.flatnonzero(x > 0)
    n_each = counts[prob.g[pairs]]
    rep = np.repeat(pairs, n_each)
    offset = np.arange(int(n_each.sum())) - np.repeat(np.cumsum(n_each) - n_each, n_each)
    cell = order[starts[prob.g[rep]] + offset]
    value = prob.longer[cell, prob.j[rep]]
    weight = part[cell] * x[rep] / prob.part[prob.g[rep]]
    per_site = weighted_median_by(prob.j[rep], value, weight)
    overall = weighted_median_by(np.zeros(len(rep), dtype=np.int64), value, weight)
    return (float(overall.iloc[0]) if len(overall) else float("nan")), per_site


def _evaluate(prob: _Problem, chosen: np.ndarray, m: int, inflow: float,
              k: int) -> tuple[dict[str, object], pd.DataFrame]:
    """The per-k row (without solver columns) and the site rows for a set of open sites."""
    cov = prob.coverage
    cands = cov.candidates
    status, best, x = _assign(prob, chosen, m)
    ok = status == 0
    in_set = chosen[prob.j]
    reach_groups = np.unique(prob.g[in_set])
    reach_site = np.bincount(prob.j, weights=prob.part[prob.g], minlength=prob.n_c)
    assigned = np.bincount(prob.j, weights=x, minlength=prob.n_c)
    idx = np.flatnonzero(chosen)
    weeks = class_start_weeks(assigned[idx], m, inflow_share_per_month=inflow)
    median, per_site = _medians(prob, x) if ok else (float("nan"), pd.Series(dtype=float))
    covered = best if ok else float("nan")
    w = assigned[idx]
    row: dict[str, object] = {
        "k": k, "candidate_ids": ", ".join(cands["candidate_id"].astype(str).to_numpy()[idx]),
        "participants_covered": covered,
        "share_covered": covered / cov.participants_total,
        "participants_reachable": float(prob.part[reach_groups].sum()),
        "min_class_size": m, "median_travel_min": median,
        "weeks_to_start_mean": float(w @ weeks["weeks_to_start"] / w.sum()) if ok else np.nan,
        "weeks_to_start_max": float(weeks["weeks_to_start"].max()) if ok else np.nan,
        "mean_wait_weeks": float(w @ weeks["mean_wait_weeks"] / w.sum()) if ok else np.nan,
    }
    sites = cands.iloc[idx][["candidate_id", "name", "source", "ags", "gen"]].copy()
    sites.insert(0, "k", k)
    sites["participants_reachable"] = reach_site[idx]
    sites["participants_assigned"] = assigned[idx] if ok else np.nan
    sites["median_travel_min"] = per_site.reindex(idx).to_numpy(float)
    sites["weeks_to_start"] = weeks["weeks_to_start"].to_numpy() if ok else np.nan
    sites["mean_wait_weeks"] = weeks["mean_wait_weeks"].to_numpy() if ok else np.nan
    return row, sites.reset_index(drop=True)


def _positions(coverage: FormatCoverage, ids: Sequence[str], what: str) -> np.ndarray:
    """Candidate-table positions of ``ids`` (unknown or ineligible ones: ConfigError)."""
    table = coverage.candidates
    pos = pd.Index(table["candidate_id"].astype(str)).get_indexer(pd.Index([str(i) for i in ids]))
    if (pos < 0).any():
        unknown = [str(i) for i, p in zip(ids, pos, strict=True) if p < 0]
        raise ConfigError(f"{what}: unbekannte Standorte {', '.join(unknown)} (erwartet "
                          "candidate_id aus der Kandidatentabelle)")
    bad = pos[~table["eligible"].to_numpy(bool)[pos]]
    if len(bad):
        raise ConfigError(f"{what}: Standort {table['candidate_id'].iloc[bad[0]]} kann das Format "
                          f"nicht anbieten ({table['excluded'].iloc[bad[0]]})")
    if len(set(pos.tolist())) < len(pos):
        raise ConfigError(f"{what}: ein Standort ist mehrfach genannt")
    return pos


def _fixed(coverage: FormatCoverage, fixed: Sequence[str], keep_existing: bool,
           notes: list[str]) -> np.ndarray:
    table = coverage.candidates
    mask = np.zeros(len(table), dtype=bool)
    mask[_positions(coverage, fixed, "feste Standorte")] = True
    if keep_existing:
        existing = (table["source"] == "bestehend").to_numpy(bool)
        skipped = existing & ~table["eligible"].to_numpy(bool)
        if skipped.any():
            notes.append(f"bestehende Standorte, die das Format nicht anbieten können und nicht "
                         f"fest sind: {int(skipped.sum())} (z. B. "
                         f"{', '.join(table['candidate_id'][skipped].astype(str)[:5])})")
        mask |= existing & ~skipped
    return mask


def _short_fixed(prob: _Problem, fixed: np.ndarray, m: int, notes: list[str]) -> None:
    """Note fixed sites that cannot draw the minimum even with every participant they reach."""
    reach = np.bincount(prob.j, weights=prob.part[prob.g], minlength=prob.n_c)
    short = np.flatnonzero(fixed & (reach < m))
    ids = prob.coverage.candidates["candidate_id"].astype(str).to_numpy()
    for j in short:
        notes.append(f"fester Standort {ids[j]} erreicht nur {reach[j]:.1f} potenzielle "
                     f"Teilnehmende, weniger als die Mindestgruppengröße {m}: jede Auswahl mit "
                     "ihm ist unzulässig")


def _empty_row(k: int, m: int, status: str) -> dict[str, object]:
    return {"k": k, "candidate_ids": pd.NA, "participants_covered": np.nan, "status": status,
            "mip_gap": np.nan, "min_class_size": m, "gain": np.nan}


def best_sites(
    coverage: FormatCoverage,
    *,
    k_max: int = 10,
    min_class_size: Mapping[str, int] | None = None,
    fixed: Sequence[str] = (),
    keep_existing: bool = False,
    inflow_share_per_month: float = DEFAULT_INFLOW_SHARE,
    time_limit_s: float = 60.0,
) -> SitePlan:
    """The ``k`` sites that let the most potential participants attend, for ``k = 1 ... k_max``.

    Maximal covering with a minimum class size per open site, each participant counted at one
    site, solved exactly (model in this module's docstring).

    Parameters
    ----------
    coverage
        The format's coverage at the candidates (:func:`format_coverage`).
    k_max
        Largest number of sites (default 10; capped at the number of eligible candidates).
    min_class_size
        Minimum per course type (default
        :data:`~kurszugang.analysis.demand.DEFAULT_MIN_CLASS_SIZE`); the format's type is used.
    fixed
        Candidate ids that are open in every solution.
    keep_existing
        Also keep every existing site (source ``bestehend``) that can host the format open.
    inflow_share_per_month
        Inflow model: new participants per month as a share of a site's pool (default 0.02).
    time_limit_s
        Time limit of each MILP (seconds); hitting it shows in ``status`` and ``mip_gap``.

    Returns
    -------
    SitePlan
        ``k`` runs from the number of fixed sites (at least 1) to ``k_max``.

    Raises
    ------
    ConfigError
        For unknown or ineligible fixed ids, ``k_max`` below the number of fixed sites, a
        minimum class size below 1 or an inflow share outside (0, 1].

    Examples
    --------
    >>> plan = best_sites(cov, k_max=5, min_class_size={"alpha": 8})
    >>> plan.per_k[["k", "participants_covered", "weeks_to_start_mean"]].round(1)
       k  participants_covered  weeks_to_start_mean
    0  1                 180.6                  9.6
    1  2                 193.0                 18.0
    2  3                 201.5                 25.9
    3  4                 202.4                 34.4
    4  5                 202.8                 42.9
    >>> plan.per_k["candidate_ids"].iloc[2]
    'KS03, KS04, KS05'
    """
    _check_share(inflow_share_per_month)
    m = min_class_size_for(coverage.course_format.course_type, min_class_size)
    notes: list[str] = []
    fix = _fixed(coverage, fixed, keep_existing, notes)
    n_fixed, n_ok = int(fix.sum()), int(coverage.candidates["eligible"].sum())
    k_lo = max(1, n_fixed)
    if k_max < k_lo:
        raise ConfigError(f"k_max {k_max} ist kleiner als die Zahl der festen Standorte "
                          f"({n_fixed}) oder 1")
    k_hi = min(int(k_max), n_ok)
    if k_hi < k_max:
        notes.append(f"nur {n_ok} Kandidaten können das Format anbieten: k bis {k_hi} statt "
                     f"{k_max}")
    prob = _problem(coverage)
    _short_fixed(prob, fix, m, notes)
    rows, site_frames = _solve_all(prob, range(k_lo, k_hi + 1), m, fix, inflow_share_per_month,
                                   time_limit_s, notes)
    return _plan(prob, rows, site_frames, m, fix, inflow_share_per_month, notes)


def _solve_all(prob: _Problem, ks: range, m: int, fix: np.ndarray, inflow: float,
               time_limit_s: float,
               notes: list[str]) -> tuple[list[dict[str, object]], list[pd.DataFrame]]:
    """Solve each ``k`` (stopping at the first infeasible one) and report the chosen sets."""
    rows: list[dict[str, object]] = []
    frames: list[pd.DataFrame] = []
    previous = 0.0 if ks.start == 1 else float("nan")
    infeasible_from: int | None = None
    for k in ks:
        if infeasible_from is not None:
            rows.append(_empty_row(k, m, STATUS[2]))
            continue
        status, chosen, gap, message = _solve_milp(prob, k, m, fix, time_limit_s)
        if chosen is None:
            rows.append(_empty_row(k, m, STATUS.get(status, STATUS[4])))
            if status == 2:
                infeasible_from = k
                notes.append(f"ab k = {k} lassen sich nicht alle Standorte mit mindestens {m} "
                             "Teilnehmenden füllen (unzulässig)")
            else:
                log.warning("k = %d: keine Lösung gefunden (%s)", k, message)
            previous = float("nan")
            continue
        row, sites = _evaluate(prob, chosen, m, inflow, k)
        covered = float(row["participants_covered"])  # type: ignore[arg-type]
        if not np.isfinite(covered):  # the solver's set fails the check: never report it
            log.warning("k = %d: die gewählten Standorte bestehen die Nachprüfung nicht", k)
            rows.append(_empty_row(k, m, STATUS[4]))
            previous = float("nan")
            continue
        gain = covered - previous
        if abs(gain) <= 1e-9 * max(1.0, covered):  # the same optimum up to rounding
            gain = 0.0
        row.update(status=STATUS.get(status, STATUS[4]), mip_gap=gap, gain=gain)
        previous = covered
        rows.append(row)
        frames.append(sites.assign(fixed=fix[pd.Index(prob.coverage.candidates["candidate_id"])
                                             .get_indexer(sites["candidate_id"])]))
    return rows, frames


def _plan(prob: _Problem, rows: list[dict[str, object]], frames: list[pd.DataFrame], m: int,
          fix: np.ndarray, inflow: float, notes: list[str]) -> SitePlan:
    """The :class:`SitePlan` from the rows and site frames, with the documented dtypes."""
    coverage = prob.coverage
    per_k = pd.DataFrame(rows).reindex(columns=list(PER_K_COLUMNS))
    per_k["fixed_ids"] = ", ".join(coverage.candidates["candidate_id"].astype(str)[fix])
    per_k["k"] = per_k["k"].astype(np.int64)
    per_k["min_class_size"] = per_k["min_class_size"].astype(np.int64)
    per_k["candidate_ids"] = per_k["candidate_ids"].astype("string")
    per_k["status"] = per_k["status"].astype("string")
    per_k["fixed_ids"] = per_k["fixed_ids"].astype("string")
    for col in PER_K_COLUMNS:
        if col not in ("k", "candidate_ids", "status", "min_class_size", "fixed_ids"):
            per_k[col] = per_k[col].astype(np.float64)
    sites = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame(columns=list(SITE_COLUMNS)))
    for n in notes:
        log.info(n)
    return SitePlan(per_k, sites.reindex(columns=list(SITE_COLUMNS)), coverage.abdeckung(),
                    coverage.participants_total, float(prob.part.sum()), m,
                    tuple(coverage.candidates["candidate_id"].astype(str)[fix]), inflow, notes)


def evaluate_sites(
    coverage: FormatCoverage,
    candidate_ids: Sequence[str],
    *,
    min_class_size: Mapping[str, int] | None = None,
    inflow_share_per_month: float = DEFAULT_INFLOW_SHARE,
) -> SitePlan:
    """What a given set of sites achieves for the format: the figures :func:`best_sites` reports.

    Parameters
    ----------
    coverage
        The format's coverage (:func:`format_coverage`).
    candidate_ids
        The proposed sites.
    min_class_size, inflow_share_per_month
        As for :func:`best_sites`.

    Returns
    -------
    SitePlan
        One row in ``per_k`` (``k`` = number of sites; ``status`` "optimal" when the sites can
        each draw the minimum, else "unzulässig"; ``gain`` and ``mip_gap`` NaN) and the sites.

    Raises
    ------
    ConfigError
        For unknown, ineligible or repeated ids.

    Examples
    --------
    >>> evaluate_sites(cov, ["KS01", "hst:de:09999:1008"]).per_k[
    ...     ["k", "candidate_ids", "participants_covered", "weeks_to_start_mean"]].round(1)
       k            candidate_ids  participants_covered  weeks_to_start_mean
    0  2  KS01, hst:de:09999:1008                 175.8                 19.8
    """
    _check_share(inflow_share_per_month)
    m = min_class_size_for(coverage.course_format.course_type, min_class_size)
    chosen = np.zeros(len(coverage.candidates), dtype=bool)
    chosen[_positions(coverage, candidate_ids, "vorgeschlagene Standorte")] = True
    prob = _problem(coverage)
    row, sites = _evaluate(prob, chosen, m, inflow_share_per_month, int(chosen.sum()))
    row.update(status=STATUS[0] if np.isfinite(row["participants_covered"]) else STATUS[2],  # type: ignore[call-overload]
               mip_gap=np.nan, gain=np.nan)
    notes: list[str] = []
    if row["status"] == STATUS[2]:
        notes.append(f"die Standorte lassen sich nicht alle mit mindestens {m} Teilnehmenden "
                     "füllen")
    return _plan(prob, [row], [sites.assign(fixed=False)], m, np.zeros(len(chosen), dtype=bool),
                 inflow_share_per_month, notes)
