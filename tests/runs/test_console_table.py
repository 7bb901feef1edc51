"""The diagnostics' console table and CSV keep integer columns with gaps as integers."""

from __future__ import annotations

import pandas as pd

from bench.console_table import print_and_save, rows_frame


def test_an_integer_column_with_gaps_stays_integer_in_the_frame_and_the_csv(tmp_path, capsys):
    rows = [
        {"stage": "codec", "timestep": None, "psnr": 24.125},
        {"stage": "estimate", "timestep": 200, "psnr": 23.5},
    ]
    assert str(rows_frame(rows)["timestep"].dtype) == "Int64"
    print_and_save(rows, tmp_path / "table.csv")
    printed = capsys.readouterr().out
    assert "200.0" not in printed and " 200 " in printed and "24.1250" in printed
    assert (tmp_path / "table.csv").read_text().splitlines()[1:] == ["codec,,24.125", "estimate,200,23.5"]
    assert pd.read_csv(tmp_path / "table.csv")["psnr"].tolist() == [24.125, 23.5]


def test_float_and_text_columns_are_left_as_they_are():
    frame = rows_frame(
        [{"name": "a", "value": 1.0, "flag": True}, {"name": "b", "value": None, "flag": False}]
    )
    assert (
        frame["value"].dtype == float
        and frame["flag"].dtype == bool
        and pd.api.types.is_string_dtype(frame["name"])
    )
