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
        ("[routing]\nwalk_speed = 5\n", "[routing] has no setting 'walk_speed'"),
        ("[routing]\nwalk_speed_kmh = \"schnell\"\n", "walk_speed_kmh = 'schnell' is not a float"),
        ("[routing]\nmax_rides = 2.5\n", "max_rides = 2.5 is not a int"),
        ("[routen]\nx = 1\n", "unknown section [routen]"),
        ("[coverage]\nthresholds_min = [45, 30]\n", "must be positive and increasing"),
        ("[district]\nkey = \"9187\"\n", "must be a 5-digit Kreis key"),
        ("[output]\nformats = [\"csv\", \"docx\"]\n", "has unknown ['docx']"),
        ("[routing\n", "is not valid TOML"),
    ],
)
def test_bad_settings_name_the_setting(tmp_path: Path, text: str, message: str):
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert message in str(info.value)
    assert "kurszugang.toml" in str(info.value)


def test_missing_file_and_bad_date(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist .*kurszugang init"):
        load_config(tmp_path / "nope.toml")
    cfg = load_config(_write(tmp_path, '[dates]\nschool_day = "10.03.2026"\n'))
    with pytest.raises(ConfigError, match=r"dates.school_day '10.03.2026' is not a date"):
        cfg.date("school_day")
