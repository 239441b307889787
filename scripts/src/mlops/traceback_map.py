"""Point a traceback of the assembled training script at the lines the author wrote in the base file.

The smoke run (and the Azure job) runs the assembled script, whose line numbers differ from the base
``train.py`` once filled sections are inserted. Each ``File "...train.py", line N`` of the staged
script becomes the base file's line, or names the filled section the line belongs to.
"""

from __future__ import annotations

import re
from pathlib import Path

from mlops.assembly import Assembly

FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')


def map_traceback(text: str, staged: Path, script_name: str, assembly: Assembly) -> str:
    """``text`` with every frame of the staged script ``staged`` pointing at ``script_name``'s own lines."""
    def swap(frame: re.Match) -> str:
        path = Path(frame["path"])
        if path != staged and not (not path.is_absolute() and path.name == staged.name):
            return frame[0]
        line = int(frame["line"])
        if line in assembly.origin:
            return f'File "{script_name}", line {assembly.origin[line]}'
        section = assembly.section_at(line)
        where = f"in `#====={section}`, a section mlops fills in" if section else "a line mlops added"
        return f'File "{script_name}" (assembled), line {line} ({where}: `mlops assemble {script_name}` shows it)'

    return FRAME.sub(swap, text)
