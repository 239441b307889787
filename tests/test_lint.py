"""The template's own Python passes ruff with the repo's ruff.toml."""

from conftest import BIN, TEMPLATE, run


def test_ruff_finds_nothing():
    result = run([str(BIN / "ruff"), "check", "--no-cache", "scripts/src", "hooks", "tests", "benchmarks"],
                 TEMPLATE, check=False)
    assert result.returncode == 0, result.stdout
