"""The stand-in's worse-model fault: the labels a job trains on are scrambled, the gate's inputs are not."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from mlops.standin.worse_model import GATE_INPUTS, scrambled_copy

ROWS = [f"{i}.0,{i % 7}.5,{label}" for i, label in enumerate(["setosa", "versicolor", "virginica"] * 20)]


def test_a_csv_keeps_its_features_and_its_labels_but_no_longer_pairs_them(tmp_path):
    source = tmp_path / "iris.csv"
    source.write_text("\n".join(["length,width,species", *ROWS]) + "\n")
    assert scrambled_copy(source, tmp_path / "copy" / "iris.csv") == 1
    header, *rows = (tmp_path / "copy" / "iris.csv").read_text().splitlines()
    assert header == "length,width,species" and len(rows) == len(ROWS)
    assert [r.rsplit(",", 1)[0] for r in rows] == [r.rsplit(",", 1)[0] for r in ROWS]
    labels = [r.rsplit(",", 1)[1] for r in rows]
    assert Counter(labels) == Counter(r.rsplit(",", 1)[1] for r in ROWS)
    assert sum(a == b for a, b in zip(labels, (r.rsplit(",", 1)[1] for r in ROWS), strict=True)) < len(ROWS) / 2
    assert source.read_text().splitlines()[1:] == ROWS  # the original is left as it is


def test_a_named_column_is_shuffled_instead_and_a_missing_one_is_named(tmp_path):
    source = tmp_path / "data.csv"
    source.write_text("species,length\n" + "\n".join(f"{r.rsplit(',', 1)[1]},{i}" for i, r in enumerate(ROWS)))
    scrambled_copy(source, tmp_path / "out.csv", column="species")
    rows = (tmp_path / "out.csv").read_text().splitlines()[1:]
    assert [r.split(",")[1] for r in rows] == [str(i) for i in range(len(ROWS))]
    assert [r.split(",")[0] for r in rows] != [r.rsplit(",", 1)[1] for r in ROWS]
    with pytest.raises(ValueError, match=r"data\.csv has no column 'label' \(its columns: species, length\)"):
        scrambled_copy(source, tmp_path / "again" / "data.csv", column="label")


def test_a_folder_of_json_lines_loses_its_entities_and_other_files_are_copied_as_they_are(tmp_path):
    source = tmp_path / "forms"
    source.mkdir()
    record = {"text": "Phone: 555-0118", "entities": [[7, 15, "PHONE"]]}
    (source / "train.jsonl").write_text(json.dumps(record) + "\n")
    (source / "README.txt").write_text("forms\n")
    assert scrambled_copy(source, tmp_path / "copy") == 1
    assert json.loads((tmp_path / "copy" / "train.jsonl").read_text()) == {**record, "entities": []}
    assert (tmp_path / "copy" / "README.txt").read_text() == "forms\n"


def test_the_gate_s_own_inputs_are_never_scrambled():
    assert {"evaluation_data", "champion_model"} == GATE_INPUTS
