"""The #===== section assembler: one test per rule of the original AzureMLRun helper, and the CLI."""

from __future__ import annotations

import re

import pytest

from conftest import bake, mlops
from mlops.assembly import assemble, check_script
from mlops.errors import MlopsError
from mlops.frameworks import SKLEARN, SPACY
from mlops.sections import SECTIONS
from mlops.traceback_map import map_traceback

BASE = '''\
"""A base file: the author's three sections only."""
#=====set experiment and model name
EXPERIMENT_NAME = "exp"
MODEL_NAME = "exp-model"

#=====import data
rows = [(1.0, 0), (2.0, 1)]

#=====custom training code
model = {"threshold": 1.5}
y_test = [0, 1]
predictions = [0, 1]
metrics = {"accuracy": 1.0}
'''
FILLED_TITLES = [spec.title for spec in SECTIONS if not spec.required]


def markers(text: str) -> list[str]:
    return re.findall(r"^#=====(.*)$", text, flags=re.MULTILINE)


def test_absent_sections_are_filled_in_the_canonical_order():
    result = assemble(BASE, SKLEARN)
    assert markers(result.text) == [spec.title for spec in SECTIONS]
    assert result.filled == FILLED_TITLES and result.skipped == [] and result.warnings == []
    assert result.text.startswith('"""A base file')
    compile(result.text, "train.py", "exec")


def test_the_save_model_section_follows_the_framework():
    sklearn, spacy = assemble(BASE, SKLEARN).text, assemble(BASE, SPACY).text
    assert 'joblib.dump(model, OUTPUTS / "model.joblib")' in sklearn and "to_disk" not in sklearn
    assert 'model.to_disk(OUTPUTS / "model")' in spacy and "joblib" not in spacy


def test_a_present_section_is_never_overwritten():
    base = BASE.replace("#=====import data", "#=====connect to services\nSERVICE = 'mine'\n\n#=====import data")
    result = assemble(base, SKLEARN)
    assert "SERVICE = 'mine'" in result.text
    assert "mlflow.set_tracking_uri" not in result.text
    assert "connect to services" not in result.filled
    assert markers(result.text).count("connect to services") == 1


def test_a_present_but_empty_section_is_a_forced_skip():
    base = BASE + "\n#=====save performance plots (if selected in `AzureMLRun` settings)\n"
    result = assemble(base, SKLEARN)
    assert result.skipped == ["save performance plots"]
    assert "save performance plots" not in result.filled
    assert "matplotlib" not in result.text
    assert "#=====save performance plots (if selected in `AzureMLRun` settings)\n" in result.text


def test_a_section_with_only_comments_counts_as_empty():
    base = BASE + "#=====save model\n# this experiment keeps no model\n"
    result = assemble(base, SPACY)
    assert result.skipped == ["save model"] and "to_disk" not in result.text


@pytest.mark.parametrize("marker", [
    "#=====Import Data",
    "#=====  import   data  ",
    "#=====IMPORT DATA (from the blob store)",
    "#=====import data: forms",
    "# ======= import data",
])
def test_markers_match_with_case_spacing_and_trailing_text(marker):
    result = assemble(BASE.replace("#=====import data", marker), SKLEARN)
    assert result.warnings == []
    assert marker in result.text.splitlines()  # kept verbatim
    assert "import data" not in result.filled


@pytest.mark.parametrize("missing", ["set experiment and model name", "import data", "custom training code"])
def test_a_missing_required_section_is_an_error_naming_it(missing):
    base = BASE.replace(f"#====={missing}\n", "")
    with pytest.raises(MlopsError, match=f"no '#====={missing}' section"):
        assemble(base, SKLEARN)


def test_an_empty_required_section_is_an_error():
    base = BASE.replace('rows = [(1.0, 0), (2.0, 1)]\n', "")
    with pytest.raises(MlopsError, match=r"train.py:6:1: '#=====import data' is empty"):
        assemble(base, SKLEARN)


def test_a_repeated_section_is_an_error_with_both_lines():
    base = BASE + "\n#=====import data\nmore = 1\n"
    with pytest.raises(MlopsError, match=r"train.py:15:1: '#=====import data' appears again \(first on line 6\)"):
        assemble(base, SKLEARN)


def test_an_unknown_marker_is_a_warning_and_is_kept():
    base = BASE + "\n#=====evaluate on holdout\nholdout = 0.9\n"
    result = assemble(base, SKLEARN)
    assert [str(w) for w in result.warnings] == [
        "train.py:15:1: warning: unknown section marker '#=====evaluate on holdout': kept as written "
        f"(known sections: {', '.join(spec.title for spec in SECTIONS)})"]
    # It stays after the code it followed, and the filled tail comes after it.
    assert markers(result.text)[-4:] == ["evaluate on holdout", "log metrics", "save performance plots", "save model"]


def test_a_marker_inside_a_string_is_not_a_marker():
    base = BASE.replace('"""A base file', '"""A base file\n#=====save model\n')
    result = assemble(base, SKLEARN)
    assert "save model" in result.filled


@pytest.mark.parametrize("framework", [SKLEARN, SPACY], ids=["sklearn", "spacy"])
@pytest.mark.parametrize("base", [
    BASE,
    BASE + "\n#=====save performance plots\n",
    BASE.replace("#=====import data", "#=====start the run\nrun = None\n\n#=====import data"),
    BASE.rstrip("\n"),  # no newline at the end
], ids=["three-sections", "forced-skip", "own-start", "no-final-newline"])
def test_assembling_an_assembled_script_changes_nothing(base, framework):
    once = assemble(base, framework).text
    again = assemble(once, framework)
    assert again.text == once and again.filled == []


def test_filled_sections_go_before_the_first_later_section_whatever_the_authors_order():
    # The author put the training code before the data import; filled sections keep to their neighbours.
    base = BASE.replace("#=====import data\nrows = [(1.0, 0), (2.0, 1)]\n\n", "") + "\n#=====import data\nrows = []\n"
    assert markers(assemble(base, SKLEARN).text) == [
        "base imports", "connect to services", "set experiment and model name", "start the run",
        "custom training code", "import data", "log metrics", "save performance plots", "save model"]
    assert assemble(base, SKLEARN).text == assemble(base, SKLEARN).text


def test_check_script_reports_what_validate_shows():
    findings = check_script(BASE.replace("#=====custom training code\n", ""), "train.py")
    assert [str(f) for f in findings] == [
        "train.py:1:1: no '#=====custom training code' section: add that marker line with your code under it "
        "(the author writes: #=====set experiment and model name, #=====import data, #=====custom training code)"]
    assert check_script("x = (\n", "train.py")[0].message.startswith("cannot be read as Python")


def test_cli_prints_or_writes_the_assembled_script(tmp_path):
    (tmp_path / "train.py").write_text(BASE)
    printed = mlops("assemble", "train.py", "--framework", "spacy", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == assemble(BASE, SPACY).text
    assert "filled in: base imports, connect to services" in printed.stderr
    written = mlops("assemble", "train.py", "-o", "build/full.py", "--framework", "sklearn", cwd=tmp_path)
    assert written.returncode == 0 and (tmp_path / "build/full.py").read_text() == assemble(BASE, SKLEARN).text


def test_cli_takes_the_framework_from_the_experiment_file(tmp_path):
    repo = bake(tmp_path, framework="spacy")
    result = mlops("assemble", "train.py", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert 'model.to_disk(OUTPUTS / "model")' in result.stdout


def test_cli_errors_are_one_line(tmp_path):
    (tmp_path / "train.py").write_text(BASE.replace("#=====import data\n", ""))
    no_section = mlops("assemble", "train.py", "--framework", "sklearn", cwd=tmp_path)
    assert no_section.returncode == 1 and no_section.stdout == ""
    assert no_section.stderr.startswith("error: train.py:1:1: no '#=====import data' section")
    assert len(no_section.stderr.splitlines()) == 1
    no_framework = mlops("assemble", "train.py", cwd=tmp_path)
    assert no_framework.returncode == 1 and "pass --framework sklearn|spacy" in no_framework.stderr


def test_every_author_line_is_mapped_back_and_a_traceback_names_the_base_lines(tmp_path):
    assembly = assemble(BASE, SKLEARN)
    assembled, base = assembly.text.splitlines(), BASE.splitlines()
    assert assembly.origin and all(assembled[at - 1] == base[line - 1] for at, line in assembly.origin.items())
    assert sorted(assembly.origin.values()) == list(range(1, len(base) + 1))
    model_line = assembled.index('model = {"threshold": 1.5}') + 1
    metrics_line = assembled.index("#=====log metrics") + 2
    staged = tmp_path / "build" / "smoke" / "train.py"
    trace = (f'  File "{staged}", line {model_line}, in <module>\n'
             f'  File "{staged}", line {metrics_line}, in <module>\n'
             f'  File "/usr/lib/python3.11/json/__init__.py", line 231, in dumps\n')
    mapped = map_traceback(trace, staged, "train.py", assembly).splitlines()
    assert mapped[0] == f'  File "train.py", line {base.index(assembled[model_line - 1]) + 1}, in <module>'
    assert "(in `#=====log metrics`, a section mlops fills in: `mlops assemble train.py` shows it)" in mapped[1]
    assert mapped[2] == trace.splitlines()[2]  # other files are left alone
