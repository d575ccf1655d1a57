"""A short written summary of a run for a district council paper (German; Markdown and HTML)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

#: Course types in words (German).
_TYPES = {"allgemein": "allgemeiner Integrationskurs", "intensiv": "Intensivkurs",
          "jugend": "Jugendintegrationskurs", "eltern": "Elternintegrationskurs",
          "frauen": "Frauenintegrationskurs", "alpha": "Alphabetisierungskurs",
          "zweitschrift": "Zweitschriftlernerkurs", "foerder": "Förderkurs"}
_SCHEDULES = {"vollzeit": "Vollzeit", "teilzeit": "Teilzeit", "abend": "Abendkurs"}


def _de(x: float, digits: int = 0) -> str:
    """A number in German notation (1.234,5)."""
    text = f"{x:,.{digits}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def summary_blocks(*, district: str, school_day: dt.date, holiday: dt.date,
                   district_row: pd.Series, compare: pd.DataFrame, gaps: pd.DataFrame,
                   sizes: pd.DataFrame, threshold_min: float, early_arrival_min: float,
                   parameters: Mapping[str, object], checksums: Mapping[str, str],
                   files: Sequence[str]) -> list[tuple[str, list[str] | str]]:
    """The summary as (heading, paragraph or bullet list) blocks, shared by both formats."""
    part = float(district_row["participants"])
    part_any = float(district_row["part_any"])
    share = 100 * part_any / part if part else 0.0
    inh_any = float(district_row["inh_any"])
    inh = float(district_row["inhabitants"])
    hol_col = f"inh_any_{holiday}"
    school_col = f"inh_any_{school_day}"
    hol_total = float(compare[hol_col].sum()) if hol_col in compare else float("nan")
    school_total = float(compare[school_col].sum()) if school_col in compare else inh_any
    lead = (f"Am Schultag {school_day:%d.%m.%Y} können {_de(part_any)} von {_de(part)} potenziellen "
            f"Teilnehmenden ({_de(share)} %) im {district} mindestens einen Integrationskurs "
            f"besuchen: mit Bus, Bahn und zu Fuß hin bis Kursbeginn (höchstens "
            f"{early_arrival_min:g} Minuten vorher) und nach Kursende wieder nach Hause, je Weg "
            f"höchstens {threshold_min:g} Minuten. Von allen {_de(inh)} Einwohnerinnen und "
            f"Einwohnern sind es {_de(inh_any)}. In den Ferien ({holiday:%d.%m.%Y}), wenn die "
            f"Schulbusse nicht fahren, sind es {_de(hol_total)} statt {_de(school_total)}.")
    blocks: list[tuple[str, list[str] | str]] = [("Das Wichtigste", lead)]
    lost = compare.sort_values("inh_any_diff", ascending=False)
    lost = lost[lost["inh_any_diff"] > 0].head(5)
    if len(lost):
        blocks.append(("Schultag und Ferien", [
            f"{g}: {_de(a)} Einwohner am Schultag, {_de(b)} in den Ferien"
            for g, a, b in zip(lost["gen"], lost[school_col], lost[hol_col], strict=True)]))
    none = gaps[gaps["inhabitants"] > 0]
    offered = set(sizes["course_type"])
    items = []
    without = []
    for gen, ags, types in zip(none["gen"], none["ags"], none["missing_types"], strict=True):
        missing = [m.strip() for m in str(types).split(",") if m.strip()]
        if missing and set(missing) >= offered:
            without.append(f"{gen} ({ags})")
        elif missing:
            items.append(f"{gen} ({ags}): kein erreichbarer "
                         + ", ".join(_TYPES.get(m, m) for m in missing))
    if without:
        items.insert(0, f"Gar kein Kurs erreichbar in {len(without)} Gemeinden: "
                     + ", ".join(without))
    blocks.append(("Lücken je Gemeinde", items or "Jede Gemeinde erreicht jede angebotene Kursart."))
    childcare = none[none["no_childcare"].astype(bool)]
    blocks.append(("Kinderbetreuung",
                   f"In {len(childcare)} von {len(none)} Gemeinden kann niemand einen Kurs mit "
                   "Kinderbetreuung zu den Kurszeiten erreichen"
                   + (f": {', '.join(childcare['gen'].astype(str))}." if len(childcare) else ".")))
    od = none[none["only_on_demand"].astype(bool)]
    if len(od):
        blocks.append(("Nur mit dem Rufbus",
                       f"In {len(od)} Gemeinden gelingt der Kursbesuch nur mit dem Rufbus: "
                       f"{', '.join(od['gen'].astype(str))}."))
    th = f"{threshold_min:g}"
    if f"feasible_{th}" in sizes:
        below = sizes[~sizes[f"feasible_{th}"].astype(bool)]
        blocks.append(("Klassengrößen", [
            f"{cid} ({_TYPES.get(ct, ct)}, {_SCHEDULES.get(sc, sc)}, {prov}): {_de(n, 1)} "
            f"potenzielle Teilnehmende erreichbar, Mindestgröße {mn}"
            for cid, ct, sc, prov, n, mn in zip(
                below["course_id"], below["course_type"], below["schedule"], below["provider"],
                below[f"participants_{th}"], below["min_class_size"], strict=True)]
            or f"Alle Kurse erreichen ihre Mindestgröße bei {th} Minuten je Weg."))
    blocks.append(("Einstellungen", [f"{k}: {v}" for k, v in parameters.items()]))
    blocks.append(("Datenstände (SHA-256)", [f"{k}: {v[:16]}…" for k, v in checksums.items()]))
    blocks.append(("Dateien", list(files)))
    return blocks


def write_summary(blocks: Sequence[tuple[str, list[str] | str]], title: str, folder: Path
                  ) -> list[Path]:
    """Write ``zusammenfassung.md`` and ``zusammenfassung.html`` into ``folder``."""
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
            body.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in content) + "</ul>")
    md_path = folder / "zusammenfassung.md"
    md_path.write_text("\n".join(md), encoding="utf-8")
    page = ("<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;"
            "max-width:48em;margin:2em auto;line-height:1.45}}h2{{margin-top:1.6em}}</style>"
            "</head><body>" + "\n".join(body) + "</body></html>\n")
    html_path = folder / "zusammenfassung.html"
    html_path.write_text(page, encoding="utf-8")
    return [md_path, html_path]
