"""The run configuration: template, checks, resolved round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from kurszugang.config import (
    DEFAULT_MIN_CLASS_SIZE,
    Config,
    load_config,
    resolved_toml,
    sha256_of,
    template,
)
from kurszugang.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "kurszugang.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_template_reads_back_with_the_defaults(tmp_path: Path):
    cfg = load_config(_write(tmp_path, template(district_key="09472")))
    assert cfg.district.key == "09472"
    assert cfg.routing == Config().routing
    assert cfg.coverage.min_class_size == DEFAULT_MIN_CLASS_SIZE
    assert cfg.path(cfg.inputs.gtfs) == tmp_path / "data/raw/gtfs.zip"
    assert cfg.date("school_day").isoformat() == "2026-03-10"


def test_resolved_config_round_trip(tmp_path: Path):
    data = tmp_path / "feed.zip"
    data.write_bytes(b"some bytes")
    cfg = load_config(_write(tmp_path, '[inputs]\ngtfs = "feed.zip"\n[coverage]\nthreshold_min = 30\n'
                                       '[coverage.min_class_size]\nalpha = 6\n'))
    text = resolved_toml(cfg, checksums={"gtfs": sha256_of(data)}, versions={"kurszugang": "0.1.0"})
    again = load_config(_write(tmp_path, text))
    assert again.to_dict() == {**cfg.to_dict(), "inputs": {**cfg.to_dict()["inputs"],
                                                          "gtfs": str(data.resolve())},
                               "output": {**cfg.to_dict()["output"],
                                          "dir": str((tmp_path / "data/processed/run").resolve())}}
    assert again.checksums == {"gtfs": sha256_of(data)}
    assert again.coverage.min_class_size["alpha"] == 6
    assert again.coverage.min_class_size["allgemein"] == 15


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[routing]\nwalk_speed = 5\n", "routing.walk_speed ist keine Einstellung in [routing]"),
        ("[routing]\nwalk_speed_kmh = \"schnell\"\n",
         'routing.walk_speed_kmh = "schnell" ist keine Zahl; erwartet: eine Zahl von 0,5 bis 10'),
        ("[routing]\nwalk_speed_kmh = true\n",
         "routing.walk_speed_kmh = true ist keine Zahl; erwartet: eine Zahl von 0,5 bis 10 (km/h)"),
        ("[routing]\nmax_rides = 2.5\n", "routing.max_rides = 2.5 ist keine ganze Zahl"),
        ("[routing]\npercentiles = [5.7, 50]\n",
         "routing.percentiles = [5.7, 50] enthält an Stelle 1 5.7, das ist keine ganze Zahl"),
        ("[coverage.min_class_size]\nalpha = 7.9\n",
         "coverage.min_class_size = {'alpha': 7.9} hat für 'alpha' den Wert 7.9, der ist keine "
         "ganze Zahl"),
        ("[output]\nformats = \"csv\"\n",
         'output.formats = "csv" ist keine Liste; erwartet: eine Liste'),
        ("[routing]\nmax_walk_m = -5\n",
         "routing.max_walk_m = -5 liegt außerhalb des erlaubten Bereichs; erwartet: eine Zahl "
         "von 0 bis 5000 (m)"),
        ("[routen]\nx = 1\n", "[routen] ist kein Abschnitt"),
        ("[coverage]\nthresholds_min = [45, 30]\n", "muss aufsteigend sein"),
        ("[district]\nkey = \"9187\"\n", 'district.key = "9187" ist kein Kreisschlüssel'),
        ("[output]\nformats = [\"csv\", \"docx\"]\n",
         "enthält an Stelle 2 'docx', das ist nicht erlaubt"),
        ("[dates]\nschool_day = \"31.02.2026\"\n",
         'dates.school_day = "31.02.2026" ist kein Datum; erwartet: ein Datum (JJJJ-MM-TT oder '
         "TT.MM.JJJJ)"),
        ("[routing\n", "ist kein gültiges TOML"),
    ],
)
def test_bad_settings_name_the_file_the_key_and_what_is_expected(tmp_path: Path, text: str,
                                                                  message: str):
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert message in str(info.value)
    assert str(tmp_path / "kurszugang.toml") in str(info.value)


def test_missing_file_names_the_path_as_typed(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"/nope\.toml: existiert nicht .*kurszugang init"):
        load_config(tmp_path / "nope.toml")


def test_german_and_iso_dates_are_read(tmp_path: Path):
    cfg = load_config(_write(tmp_path, '[dates]\nschool_day = "10.03.2026"\n'
                                       "holiday = 2026-08-11\n"))
    assert cfg.date("school_day").isoformat() == "2026-03-10"
    assert cfg.date("holiday").isoformat() == "2026-08-11"
    empty = load_config(_write(tmp_path, "[dates]\n"))
    with pytest.raises(ConfigError, match=r"dates.school_day fehlt: Schultag"):
        empty.date("school_day")


def test_direct_walk_defaults_to_threshold_times_speed(tmp_path: Path):
    cfg = load_config(_write(tmp_path, "[coverage]\nthreshold_min = 30\n"))
    assert cfg.max_direct_walk_m() == pytest.approx(30 / 60 * 4.5 * 1000)
    cfg = load_config(_write(tmp_path, "[routing]\nmax_direct_walk_m = 1200\n"))
    assert cfg.max_direct_walk_m() == 1200.0


def test_every_setting_is_declared_with_label_unit_and_help():
    from kurszugang.config import iter_settings

    rows = list(iter_settings())
    assert len(rows) > 30
    for section, key, _tp, _default, spec in rows:
        assert spec.de and spec.en and spec.help_de, f"{section}.{key}"
        assert spec.unit, f"{section}.{key}"
