"""Comparing two runs (``kurszugang compare A B``): what a scenario changes against today.

A scenario is a second run with a changed input (a site added, a course moved, a bus line
removed, a plan's proposal applied). :func:`compare_results` puts the Gemeinde figures and the
district's figures per course type, schedule and childcare of two saved runs side by side, B
minus A, as Results of their own (tables ``vergleich_gemeinden`` and ``vergleich_formate``, the
layer ``vergleich`` for a difference map).
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd

from kurszugang.errors import InputError
from kurszugang.results import Results, build_table
from kurszugang.schema import COURSE_TYPE_LABELS, SCHEDULE_LABELS

__all__ = ["compare_results"]


def _gemeinden(r: Results) -> pd.DataFrame:
    g = pd.DataFrame(r.layer("gemeinden").drop(columns="geometry"))
    return g.set_index(g["ags"].astype(str))


def _share(part: pd.Series, whole: pd.Series) -> np.ndarray:
    w = whole.to_numpy(float)
    return np.divide(100.0 * part.to_numpy(float), w, out=np.full(len(w), np.nan), where=w > 0)


def _per_gemeinde(a: Results, b: Results) -> pd.DataFrame:
    ga, gb = _gemeinden(a), _gemeinden(b)
    keys = gb.index.union(ga.index)
    out = pd.DataFrame({"ags": keys})
    names = pd.concat([ga["gen"], gb["gen"]]).groupby(level=0).last()
    out["gen"] = names.reindex(keys).to_numpy()
    for side, g in (("a", ga), ("b", gb)):
        for col, src in (("participants", "participants"), ("part_any", "part_any"),
                         ("minutes", "minutes_nearest")):
            out[f"{col}_{side}"] = g[src].astype(float).reindex(keys).to_numpy()
        out[f"share_{side}"] = _share(out[f"part_any_{side}"], out[f"participants_{side}"])
    out["part_any_diff"] = out["part_any_b"].fillna(0) - out["part_any_a"].fillna(0)
    out["share_diff"] = out["share_b"] - out["share_a"]
    return out


def _district(r: Results) -> pd.Series:
    return r.table("kursbesuch_kreis").iloc[0] if len(r.table("kursbesuch_kreis")) else \
        pd.Series(dtype=float)


def _per_format(a: Results, b: Results) -> pd.DataFrame:
    da, db = _district(a), _district(b)
    rows = [("alle Kurse", "", "mindestens ein Kurs", "part_any"),
            ("Kinderbetreuung", "", "Kurs mit Kinderbetreuung", "part_childcare")]
    codes = sorted({c for r in (a, b) for c in r.table("klassengroessen")["course_type"]})
    rows += [("Kursart", c, COURSE_TYPE_LABELS["de"].get(c, c), f"part_type_{c}")
             for c in codes]
    scheds = sorted({s for r in (a, b) for s in r.table("klassengroessen")["schedule"]})
    rows += [("Zeitform", s, SCHEDULE_LABELS["de"].get(s, s), f"part_sched_{s}")
             for s in scheds]
    out = pd.DataFrame([{"kind": k, "code": c, "label": lab,
                         "part_a": float(da.get(col, 0.0)), "part_b": float(db.get(col, 0.0))}
                        for k, c, lab, col in rows])
    out["part_diff"] = out["part_b"] - out["part_a"]
    return out


def compare_results(a: Results, b: Results) -> Results:
    """The differences B minus A of two runs, as Results (German notes on what differs).

    Raises
    ------
    InputError
        If the runs are of different districts.
    """
    if a.info.district_key != b.info.district_key:
        raise InputError(f"vergleicht nur Läufe desselben Landkreises: A ist "
                         f"{a.info.district_key}, B ist {b.info.district_key}")
    gem = _per_gemeinde(a, b)
    layer = gpd.GeoDataFrame(
        gem[["ags", "gen", "part_any_diff", "share_diff"]].merge(
            b.layer("gemeinden")[["ags", "geometry"]].astype({"ags": str}), on="ags"),
        geometry="geometry", crs=b.layer("gemeinden").crs)
    notes = [f"A: {a.info.inputs.get('courses', '')} ({a.info.school_day:%d.%m.%Y}), "
             f"B: {b.info.inputs.get('courses', '')} ({b.info.school_day:%d.%m.%Y})"]
    changed = sorted(k for k in set(a.info.checksums) | set(b.info.checksums)
                     if a.info.checksums.get(k) != b.info.checksums.get(k))
    notes.append("geänderte Eingaben: " + (", ".join(changed) if changed else "keine"))
    info = dataclasses.replace(b.info, notes=tuple(notes), settings_toml="")
    return Results(info, {"vergleich_gemeinden": build_table("vergleich_gemeinden", gem),
                          "vergleich_formate": build_table("vergleich_formate",
                                                           _per_format(a, b))},
                   {"vergleich": build_table("vergleich", layer)})
