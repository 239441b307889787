"""mlops assemble: the complete training script from a base train.py with #===== section markers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.assembly import Assembly

HELP = "fill in the #===== sections a base train.py leaves out (what smoke-train and the Azure job run)"


def add_arguments(parser) -> None:
    """BASE, where to write, and the framework whose model-saving code to use."""
    parser.add_argument("base", type=Path, metavar="BASE", help="the base training script")
    parser.add_argument("-o", "--output", type=Path, metavar="OUT",
                        help="write the assembled script here (default: print it)")
    parser.add_argument("--framework", choices=["sklearn", "spacy"],
                        help="how the model is saved (default: `framework` in the experiment file)")


def assemble_script(base: Path, *, framework: str | None = None, project_dir: Path = Path(".")) -> Assembly:
    """The complete script from ``base``; ``framework`` defaults to the experiment file's in ``project_dir``."""
    from mlops.assembly import assemble_file
    from mlops.frameworks import get_framework

    chosen = get_framework(framework or _project_framework(project_dir))
    return assemble_file(base, chosen, str(base))


def run(args) -> int:
    """Assemble BASE, report filled and skipped sections on stderr, write or print the script."""
    framework = args.framework or _project_framework(args.project_dir)
    assembly = assemble_script(args.base, framework=framework)
    for warning in assembly.warnings:
        print(warning, file=sys.stderr)
    if assembly.filled:
        print(f"filled in: {', '.join(assembly.filled)}", file=sys.stderr)
    if assembly.skipped:
        print(f"skipped (empty in {args.base}): {', '.join(assembly.skipped)}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(assembly.text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(assembly.text, encoding="utf-8")
        print(f"wrote {args.output} ({framework})", file=sys.stderr)
    return 0


def _project_framework(root: Path) -> str:
    """The experiment file's ``framework``, read without validating the whole repo."""
    from mlops.errors import MlopsError
    from mlops.layout import find_experiment_file
    from mlops.positioned import load_document

    try:
        framework = load_document(find_experiment_file(root)).data.get("framework")
    except (MlopsError, AttributeError):  # a DocumentError is an MlopsError
        framework = None
    if not isinstance(framework, str):
        raise MlopsError(f"{root}: no experiment file with a `framework` here: pass --framework sklearn|spacy")
    return framework
