"""A short written summary of a run for a district council paper (Markdown and HTML).

The summary opens with what the inputs cover (Datenlage), then the headline figure with one
sentence saying what it counts (:mod:`kurszugang.analysis.headline`), then school day against
holiday, gaps per Gemeinde, childcare, the on-demand bus, class sizes, the settings by their
labels with units, the data versions and the files. German, with correct singular and plural and
German number formats; every number comes from the Results.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kurszugang.files import atomic_path
from kurszugang.results import Results
from kurszugang.schema import COURSE_TYPE_LABELS, SCHEDULE_LABELS
from kurszugang.words import de_number, plural

__all__ = ["de_number", "headline_text", "plan_lines", "plural", "summary_blocks",
           "write_summary"]

Blocks = list[tuple[str, list[str] | str]]


def _share(part: float, whole: float) -> str:
    return de_number(100.0 * part / whole) + " %" if whole > 0 else "–"


def headline_text(results: Results) -> str:
    """The headline in one German sentence that says what it counts."""
    h, info = results.info.headline, results.info
    share = _share(h["participants_any"], h["participants"])
    return (f"{de_number(h['participants_any'])} von {de_number(h['participants'])} potenziellen "
            f"Teilnehmenden ({share}) im {info.district_name} können am Schultag "
            f"{info.school_day:%d.%m.%Y} mindestens einen Integrationskurs zu seinen Zeiten "
            f"besuchen: mit Bus, Bahn und zu Fuß hin bis Kursbeginn (höchstens "
            f"{de_number(info.early_arrival_min)} Minuten vorher) und nach Kursende wieder nach "
            f"Hause, je Weg höchstens {de_number(info.threshold_min)} Minuten.")


def _datenlage(results: Results) -> tuple[str, list[str] | str]:
    frame = results.table("datenlage")
    bad = frame[frame["rating"] != "ok"]
    if not len(bad):
        return ("Datenlage", "Die Eingaben decken den Landkreis ab: keine Warnung. "
                + " ".join(frame["text"].astype(str).head(2)))
    order = {"kritisch": 0, "Warnung": 1}
    bad = bad.assign(o=bad["rating"].map(order)).sort_values("o", kind="stable")
    return ("Datenlage", [f"{r}: {t}" for r, t in zip(bad["rating"], bad["text"], strict=True)])


def _lead(results: Results) -> str:
    h = results.info.headline
    text = headline_text(results)
    if h["inhabitants"] > 0:
        text += (f" Gezählt über alle Einwohnerinnen und Einwohner statt über die potenziellen "
                 f"Teilnehmenden sind es {de_number(h['inhabitants_any'])} von "
                 f"{de_number(h['inhabitants'])} ({_share(h['inhabitants_any'], h['inhabitants'])}).")
    return text


def _days(results: Results) -> list[tuple[str, list[str] | str]]:
    t = results.tables["schultag_ferien"]
    info = results.info
    school = t.find("inh_any_{}", info.school_day)
    hol = t.find("inh_any_{}", info.holiday)
    frame = t.frame
    if school is None or hol is None:
        return []
    a, b = float(frame[school.key].sum()), float(frame[hol.key].sum())
    if a == b:
        lead = (f"Am Ferientag {info.holiday:%d.%m.%Y} können genauso viele Einwohner einen Kurs "
                f"besuchen wie am Schultag ({de_number(a)}).")
    else:
        lead = (f"Am Ferientag {info.holiday:%d.%m.%Y}, wenn die Schulbusse nicht fahren, können "
                f"{de_number(b)} Einwohner einen Kurs besuchen, am Schultag {de_number(a)}.")
    lost = frame[frame["inh_any_diff"] > 0].sort_values("inh_any_diff", ascending=False).head(5)
    items = [lead] + [f"{g}: {de_number(x)} Einwohner am Schultag, {de_number(y)} in den Ferien"
                      for g, x, y in zip(lost["gen"], lost[school.key], lost[hol.key],
                                         strict=True)]
    return [("Schultag und Ferien", items)]


def _names(codes: str) -> list[str]:
    return [COURSE_TYPE_LABELS["de"].get(c.strip(), c.strip()) for c in str(codes).split(",")
            if c.strip()]


def _gaps(results: Results) -> Blocks:
    gaps = results.table("luecken")
    inhabited = gaps[gaps["inhabitants"] > 0]
    offered = set(results.table("klassengroessen")["course_type"].astype(str))
    items, without = [], []
    for gen, ags, types in zip(inhabited["gen"], inhabited["ags"], inhabited["missing_types"],
                               strict=True):
        missing = [m.strip() for m in str(types).split(",") if m.strip()]
        if missing and set(missing) >= offered:
            without.append(f"{gen} ({ags})")
        elif missing:
            items.append(f"{gen} ({ags}): kein erreichbarer " + ", ".join(_names(types)))
    if without:
        items.insert(0, f"Gar kein Kurs erreichbar in {plural(len(without), 'Gemeinde', 'Gemeinden')}: "
                     + ", ".join(without))
    blocks: Blocks = [("Lücken je Gemeinde",
                       items or "Jede Gemeinde erreicht jede angebotene Kursart.")]
    care = inhabited[inhabited["no_childcare"].fillna(False).astype(bool)]
    n, total = len(care), len(inhabited)
    if n == 0:
        text = "In jeder Gemeinde kann jemand einen Kurs mit Kinderbetreuung erreichen."
    else:
        text = (f"In {n} von {plural(total, 'Gemeinde', 'Gemeinden')} kann niemand einen Kurs "
                "mit Kinderbetreuung zu den Kurszeiten erreichen: "
                + ", ".join(care["gen"].astype(str)) + ".")
    blocks.append(("Kinderbetreuung", text))
    od = inhabited[inhabited["only_on_demand"].fillna(False).astype(bool)]
    if len(od):
        blocks.append(("Nur mit dem Rufbus",
                       f"In {plural(len(od), 'Gemeinde', 'Gemeinden')} gelingt der Kursbesuch "
                       f"nur mit dem Rufbus: {', '.join(od['gen'].astype(str))}."))
    return blocks


def _sizes(results: Results) -> Blocks:
    t = results.tables["klassengroessen"]
    th = results.info.threshold_min
    col = t.find("feasible_{}", th)
    part = t.find("participants_{}", th)
    if col is None or part is None:
        return []
    frame = t.frame
    below = frame[~frame[col.key].fillna(False).astype(bool)]
    items = [f"{cid} ({COURSE_TYPE_LABELS['de'].get(ct, ct)}, "
             f"{SCHEDULE_LABELS['de'].get(sc, sc)}, {prov}): "
             f"{plural(n, 'potenzielle Teilnehmende', 'potenzielle Teilnehmende', digits=1)} "
             f"erreichbar, Mindestgröße {mn}"
             for cid, ct, sc, prov, n, mn in zip(below["course_id"], below["course_type"],
                                                 below["schedule"], below["provider"],
                                                 below[part.key], below["min_class_size"],
                                                 strict=True)]
    return [("Klassengrößen", items or f"Alle Kurse erreichen ihre Mindestgröße bei "
             f"{de_number(th)} Minuten je Weg.")]


def _format_name(label: str) -> str:
    """``"alpha Mo,Di 08:30-12:45 mit Kinderbetreuung"`` in words."""
    parts = label.split(" ", 3)
    if len(parts) < 3:
        return label
    name = COURSE_TYPE_LABELS["de"].get(parts[0], parts[0])
    rest = f" {parts[3]}" if len(parts) > 3 else ""
    return f"{name} ({parts[1]} {parts[2].replace('-', '–')}{rest})"


def _plan_format(label: str, per_k: object, sites: object) -> str:
    import pandas as pd

    t = per_k  # the format's rows of plan_standorte
    assert isinstance(t, pd.DataFrame) and isinstance(sites, pd.DataFrame)
    rec = t[t["recommended"].astype(bool)]
    name = _format_name(label)
    if not len(rec):
        return (f"{name}: kein Standort erreicht die Mindestgröße – für dieses Format ist "
                "kein Kursort tragfähig.")
    r = rec.iloc[0]
    k = int(r["k"])
    chosen = sites[(sites["format"] == label) & (sites["k"] == k)]
    where = ", ".join(f"{n} ({g})" if isinstance(g, str) and g else str(n)
                      for n, g in zip(chosen["name"], chosen["gen"], strict=True))
    text = (f"{name}: Vorschlag {plural(k, 'Standort', 'Standorte')} ({where}) – "
            f"{de_number(float(r['participants_covered']), 1)} potenzielle Teilnehmende "
            f"versorgt ({de_number(float(r['share_covered']), 1)} %), je Standort mindestens "
            f"{int(r['min_class_size'])}")
    weeks = float(r["weeks_to_start_mean"])
    if math.isfinite(weeks):
        text += f"; eine Klasse beginnt im Mittel nach {de_number(weeks)} Wochen"
    more = t[t["k"] == k + 1]
    if len(more) and str(more["status"].iloc[0]) != "optimal":
        text += f". Mit {k + 1} Standorten erreicht nicht mehr jeder die Mindestgröße"
    elif len(more):
        gain = float(more["gain"].iloc[0])
        text += (f". Ein weiterer Standort brächte {de_number(gain, 1)} mehr, die Klassen "
                 "füllten sich langsamer")
    return text + "."


def _start_shifts(results: Results) -> list[str]:
    sweep = results.table("plan_startzeiten")
    out = []
    for (label, site), g in sweep.groupby(["format", "candidate_id"], sort=False):
        cur = g[g["current"].astype(bool)]
        if not len(cur):
            continue
        best = g.iloc[int(np.argmax(g["participants"].to_numpy(float)))]
        gain = float(best["participants"]) - float(cur["participants"].iloc[0])
        if gain >= 0.5 and best["start"] != cur["start"].iloc[0]:
            out.append(f"{_format_name(str(label))} in {site}: Beginn {best['start']} statt "
                       f"{cur['start'].iloc[0]} erreicht {de_number(gain, 1)} potenzielle "
                       "Teilnehmende mehr.")
    return out[:8]


def plan_lines(results: Results) -> list[str]:
    """One German sentence per planned format (for the console and the summary)."""
    if "plan_standorte" not in results.tables:
        return []
    per_k = results.table("plan_standorte")
    sites = results.table("plan_standorte_orte")
    return [_plan_format(str(label), g, sites)
            for label, g in per_k.groupby("format", sort=False)]


def _plan(results: Results) -> Blocks:
    lines = plan_lines(results)
    if not lines:
        return []
    return [("Planung: wo und wie viele Standorte", lines),
            ("Planung: Beginnzeiten", _start_shifts(results)
             or "Keine andere Beginnzeit erreicht an den geprüften Standorten mehr "
                "potenzielle Teilnehmende.")]


def _setting_number(value: float) -> str:
    """A setting as given: whole numbers with thousands points, else up to 4 significant digits
    (0.02 stays "0,02", not "0,0")."""
    if value.is_integer():
        return de_number(value, 0)
    return f"{value:.4g}".replace(".", ",")


def _settings(results: Results) -> list[str]:
    out = []
    for key, label, _en, value, unit, _m, _me in results.info.parameters:
        if key.startswith(("inputs.", "output.")) or (
                key.startswith("plan.") and "plan_standorte" not in results.tables):
            continue
        shown = _setting_number(value) if isinstance(value, float) else value
        if isinstance(shown, str) and len(shown) == 10 and shown[4] == "-" and shown[7] == "-":
            shown = f"{shown[8:]}.{shown[5:7]}.{shown[:4]}"  # an ISO date, in German form
        unit_txt = f" {unit}" if unit not in ("–", "", "Datei", "HH:MM") else ""
        out.append(f"{label}: {shown}{unit_txt}")
    return out


def summary_blocks(results: Results, files: Sequence[str | Path] = ()) -> Blocks:
    """The summary as (heading, paragraph or bullet list) blocks, shared by both formats."""
    info = results.info
    blocks: Blocks = [_datenlage(results), ("Das Wichtigste", _lead(results))]
    blocks += _days(results) + _gaps(results) + _sizes(results) + _plan(results)
    if info.courses_as_of is None:
        blocks.append(("Wartezeiten", "Stand unbekannt: die Kursliste nennt kein Datum, daher "
                       "sind keine Wochen bis zum Kursstart berechnet."))
    blocks.append(("Einstellungen", _settings(results)))
    blocks.append(("Datenstände (SHA-256)",
                   [f"{k}: {v[:16]}…" for k, v in info.checksums.items()]))
    if files:
        blocks.append(("Dateien", [str(f) for f in files]))
    return blocks


def _page(title: str, blocks: Blocks) -> tuple[str, str]:
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, content in blocks:
        md += [f"## {heading}", ""]
        body.append(f"<h2>{html.escape(heading)}</h2>")
        if isinstance(content, str):
            md += [content, ""]
            body.append(f"<p>{html.escape(content)}</p>")
        else:
            md += [f"- {item}" for item in content] + [""]
            body.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in content)
                        + "</ul>")
    style = ("body{font-family:sans-serif;max-width:48em;margin:2em auto;line-height:1.45}"
             "h2{margin-top:1.6em}")
    page = ("<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{style}</style>"
            "</head><body>" + "\n".join(body) + "</body></html>\n")
    return "\n".join(md), page


def write_summary(results: Results, folder: Path, files: Sequence[str | Path] = ()
                  ) -> list[Path]:
    """Write ``zusammenfassung.md`` and ``zusammenfassung.html`` into ``folder``."""
    title = f"Erreichbarkeit der Integrationskurse – {results.info.district_name}"
    md, page = _page(title, summary_blocks(results, files))
    out = []
    for name, text in (("zusammenfassung.md", md), ("zusammenfassung.html", page)):
        with atomic_path(folder / name) as tmp:
            tmp.write_text(text, encoding="utf-8")
        out.append(folder / name)
    return out
