"""The summary for the district council: German sentences for 0, 1 and many, from Results."""

from __future__ import annotations

import dataclasses

import pytest

from kurszugang.output.summary import de_number, headline_text, plural, summary_blocks
from kurszugang.results import Results


def _with(results: Results, name: str, frame) -> Results:
    tables = dict(results.tables)
    tables[name] = dataclasses.replace(tables[name], frame=frame)
    return dataclasses.replace(results, tables=tables)


def _text(results: Results) -> dict[str, str]:
    return {h: c if isinstance(c, str) else "\n".join(c) for h, c in summary_blocks(results)}


@pytest.mark.parametrize(("n", "want"), [(0, "0 Gemeinden"), (1, "1 Gemeinde"),
                                         (3, "3 Gemeinden"), (1234, "1.234 Gemeinden")])
def test_plural_and_german_numbers(n: int, want: str) -> None:
    assert plural(n, "Gemeinde", "Gemeinden") == want
    assert de_number(1234.56, 1) == "1.234,6"


def test_the_headline_says_what_it_counts(demo_results: Results) -> None:
    h = demo_results.info.headline
    text = headline_text(demo_results)
    assert text.startswith(f"{de_number(h['participants_any'])} von "
                           f"{de_number(h['participants'])} potenziellen Teilnehmenden (")
    assert "je Weg höchstens 45 Minuten" in text and "höchstens 30 Minuten vorher" in text
    assert "%" in text and "." not in text.split("(")[1].split(")")[0]  # 80 %, not 0.8


@pytest.mark.parametrize("n_without", [0, 1, 3])
def test_gemeinden_without_any_course(demo_results: Results, n_without: int) -> None:
    gaps = demo_results.table("luecken").copy()
    every = ", ".join(sorted(set(demo_results.table("klassengroessen")["course_type"])))
    gaps["missing_types"] = ""
    gaps.loc[gaps.index[:n_without], "missing_types"] = every
    text = _text(_with(demo_results, "luecken", gaps))["Lücken je Gemeinde"]
    if n_without == 0:
        assert text == "Jede Gemeinde erreicht jede angebotene Kursart."
    elif n_without == 1:
        assert text.startswith("Gar kein Kurs erreichbar in 1 Gemeinde: ")
    else:
        assert text.startswith("Gar kein Kurs erreichbar in 3 Gemeinden: ")


@pytest.mark.parametrize(("n", "start"), [
    (0, "In jeder Gemeinde kann jemand einen Kurs mit Kinderbetreuung erreichen."),
    (1, "In 1 von 20 Gemeinden kann niemand einen Kurs mit Kinderbetreuung"),
    (20, "In 20 von 20 Gemeinden kann niemand einen Kurs mit Kinderbetreuung")])
def test_childcare_sentence(demo_results: Results, n: int, start: str) -> None:
    gaps = demo_results.table("luecken").copy()
    gaps["no_childcare"] = False
    gaps.loc[gaps.index[:n], "no_childcare"] = True
    assert _text(_with(demo_results, "luecken", gaps))["Kinderbetreuung"].startswith(start)


@pytest.mark.parametrize(("n", "want"), [(0, None), (1, "In 1 Gemeinde gelingt"),
                                         (2, "In 2 Gemeinden gelingt")])
def test_on_demand_sentence(demo_results: Results, n: int, want: str | None) -> None:
    gaps = demo_results.table("luecken").copy()
    gaps["only_on_demand"] = False
    gaps.loc[gaps.index[:n], "only_on_demand"] = True
    text = _text(_with(demo_results, "luecken", gaps))
    if want is None:
        assert "Nur mit dem Rufbus" not in text
    else:
        assert text["Nur mit dem Rufbus"].startswith(want)


def test_class_sizes_all_reached_or_listed(demo_results: Results) -> None:
    sizes = demo_results.table("klassengroessen").copy()
    col = demo_results.tables["klassengroessen"].find("feasible_{}", 45).key
    sizes[col] = True
    assert _text(_with(demo_results, "klassengroessen", sizes))["Klassengrößen"] == \
        "Alle Kurse erreichen ihre Mindestgröße bei 45 Minuten je Weg."
    listed = _text(demo_results)["Klassengrößen"]
    assert "KS08-1 (allgemeiner Integrationskurs, Teilzeitkurs" in listed
    assert "Mindestgröße 15" in listed


def test_two_numbers_are_compared_only_when_they_differ(demo_results: Results) -> None:
    days = demo_results.table("schultag_ferien").copy()
    t = demo_results.tables["schultag_ferien"]
    school = t.find("inh_any_{}", demo_results.info.school_day).key
    holiday = t.find("inh_any_{}", demo_results.info.holiday).key
    days[holiday] = days[school]
    days["inh_any_diff"] = 0.0
    text = _text(_with(demo_results, "schultag_ferien", days))["Schultag und Ferien"]
    assert "genauso viele Einwohner einen Kurs besuchen wie am Schultag" in text
    assert " statt " not in text
    real = _text(demo_results)["Schultag und Ferien"]
    assert "wenn die Schulbusse nicht fahren" in real


def test_settings_are_listed_by_their_german_labels_with_units(demo_results: Results) -> None:
    settings = _text(demo_results)["Einstellungen"]
    assert "Gehgeschwindigkeit: 4,5 km/h" in settings
    assert "Höchstdauer je Weg: 45 min" in settings
    assert "Schultag: 10.03.2026" in settings
    assert "Anteil potenzieller Teilnehmender: 0,05" in settings  # as given, not rounded to 0,1
    assert "Längster Fußweg direkt zum Kurs: 3.375 m" in settings
    assert "walk_speed" not in settings and "{" not in settings


def test_the_html_summary_escapes_text_and_has_no_template_braces(demo_run) -> None:
    page = (demo_run.out_dir / "zusammenfassung.html").read_text(encoding="utf-8")
    assert "}}" not in page and "{{" not in page
    assert page.startswith("<!DOCTYPE html>") and "<h2>Datenlage</h2>" in page
