"""The original workflow's ``EnvConfig`` and ``AzureConfig``: settings from .env files and the environment.

``EnvConfig`` reads ``.env`` files with python-dotenv plus the process environment's variables that
carry a prefix (``MLOPS_`` here, ``RSI_`` in the original), and strips the prefix. ``AzureConfig`` adds
the ``azure*config.json`` files of a folder and gives the workspace coordinates (``mlops.azure_client``
turns them into an ``MLClient``).
Both are read-only mappings whose ``repr`` and ``str`` show keys and where they came from, never a
value, and whose errors and warnings name keys only: a .env holds secrets.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from mlops.errors import MlopsError

DEFAULT_PREFIX = "MLOPS_"
AZURE_PREFIX = "MLOPS_AZURE_"
# Azure's own variable names, as GitHub Actions jobs and azure-identity use them; they need no prefix.
STANDARD_AZURE_VARIABLES = ("AZURE_SUBSCRIPTION_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_ID")

PathArg = str | os.PathLike | Sequence[str | os.PathLike] | None


class OverrideWarning(UserWarning):
    """A later source set a key that an earlier one had already set to another value."""


class EnvFileNotFound(MlopsError, FileNotFoundError):
    """An env file that was asked for does not exist."""


class EnvFileError(MlopsError, ValueError):
    """An env file holds a line python-dotenv cannot read; the message names the line, never its text."""


def check_env_file(file: Path) -> None:
    """Raise :class:`EnvFileError` at the first line of ``file`` that is not ``KEY=value``, a comment or blank.

    python-dotenv itself only logs such lines and drops them, so a mistyped secret would vanish silently.
    """
    from dotenv.parser import parse_stream

    with open(file, encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            if binding.error:
                raise EnvFileError(f"{file}:{binding.original.line}: not a KEY=value line (its text is not shown, "
                                   "it may hold a secret): write KEY=value, quoting a value that holds spaces, "
                                   "'#' or quotes")


class SecretValues(Mapping[str, str]):
    """A read-only mapping of settings that never shows a value when printed.

    Lookup is exact first, then case-insensitive, so ``env['subscription_id']`` finds
    ``SUBSCRIPTION_ID``.
    """

    def __init__(self, values: Mapping[str, str] | None = None,
                 sources: Mapping[str, str] | None = None) -> None:
        self._values: dict[str, str] = dict(values or {})
        self._sources: dict[str, str] = dict(sources or {})

    def __getitem__(self, key: str) -> str:
        if key in self._values:
            return self._values[key]
        matches = [k for k in self._values if k.lower() == key.lower()]
        if len(matches) == 1:
            return self._values[matches[0]]
        if matches:
            raise KeyError(f"{key!r} is ambiguous: set as {', '.join(matches)}")
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(keys={sorted(self._values)}, values hidden)"

    __str__ = __repr__

    def source(self, key: str) -> str:
        """Where ``key``'s value came from: a file path or ``environment variable NAME``."""
        self[key]  # raise KeyError for an unknown key
        return self._sources.get(key) or next(s for k, s in self._sources.items() if k.lower() == key.lower())

    def lowerkeys(self) -> SecretValues:
        """The same settings with lower-case keys (the original's ``env.lowerkeys()``)."""
        values: dict[str, str] = {}
        sources: dict[str, str] = {}
        for key, value in self._values.items():
            _merge(values, sources, {key.lower(): value}, self._sources.get(key, "?"))
        return SecretValues(values, sources)

    def _merge(self, new: Mapping[str, str | None], origin: str) -> None:
        _merge(self._values, self._sources, new, origin)


def _merge(values: dict[str, str], sources: dict[str, str], new: Mapping[str, str | None],
           origin: str) -> None:
    """Add ``new`` to ``values``, warning (key only, never the value) when it changes a value."""
    for key, value in new.items():
        if value is None:
            continue
        if key in values and values[key] != value:
            warnings.warn(f"{origin}: overrides {key} set by {sources[key]} (values not shown)",
                          OverrideWarning, stacklevel=4)
        values[key] = value
        sources[key] = origin


def folder_env_files(folder: Path) -> list[Path]:
    """A folder's env files in load order: ``.env`` first, then ``*.env`` by name."""
    first = [folder / ".env"] if (folder / ".env").is_file() else []
    return first + sorted(p for p in folder.glob("*.env") if p.is_file() and p.name != ".env")


def find_env_files(start: Path) -> list[Path]:
    """The env files of ``start``, or of its parent when ``start`` has none (the original's search)."""
    for folder in (start, start.parent):
        files = folder_env_files(folder)
        if files:
            return files
    return []


class EnvConfig(SecretValues):
    """Settings from env files and prefixed environment variables, in the original's order and rules.

    ``path``: an env file, a folder (its ``.env`` then ``*.env``), or a list of either, loaded in
    order; ``None`` looks in the current folder, then its parent. File keys are taken as written, minus
    ``prefix`` when they carry it; environment variables count only with ``prefix`` and lose it. They
    load after the files, so the environment wins. A later source that changes a key warns with an
    :class:`OverrideWarning`. A missing file raises :class:`EnvFileNotFound` only when
    ``error_no_file_found``.
    """

    def __init__(self, path: PathArg = None, error_no_file_found: bool = True, prefix: str = DEFAULT_PREFIX,
                 *, environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.prefix = prefix
        self.files = self._env_files(path, error_no_file_found)
        from dotenv import dotenv_values

        for file in self.files:
            check_env_file(file)
            # no interpolation: a secret containing `$` must arrive as written
            parsed = dotenv_values(file, interpolate=False)
            self._merge({self._unprefixed(key): value for key, value in parsed.items()}, str(file))
        environ = os.environ if environ is None else environ
        for name, value in sorted(environ.items()):
            if prefix and name.upper().startswith(prefix.upper()) and len(name) > len(prefix):
                self._merge({name[len(prefix):]: value}, f"environment variable {name}")

    def _unprefixed(self, key: str) -> str:
        if self.prefix and key.upper().startswith(self.prefix.upper()) and len(key) > len(self.prefix):
            return key[len(self.prefix):]
        return key

    @staticmethod
    def _env_files(path: PathArg, error_no_file_found: bool) -> list[Path]:
        if path is None:
            start = Path.cwd()
            files = find_env_files(start)
            if not files and error_no_file_found:
                raise EnvFileNotFound(f"EnvConfig: no .env file in {start} or {start.parent}: create one "
                                      "(for example `cp .env.example .env`) or pass error_no_file_found=False")
            return files
        paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        files: list[Path] = []
        for item in map(Path, paths):
            found = folder_env_files(item) if item.is_dir() else [item] if item.is_file() else []
            if not found and error_no_file_found:
                what = f"no .env or *.env file in folder {item}" if item.is_dir() else f"{item} does not exist"
                raise EnvFileNotFound(f"EnvConfig: {what}: create it (for example `cp .env.example .env`) "
                                      "or pass error_no_file_found=False")
            files.extend(found)
        return files

    def __repr__(self) -> str:
        return (f"EnvConfig(files={[str(f) for f in self.files]}, prefix={self.prefix!r}, "
                f"keys={sorted(self._values)}, values hidden)")

    __str__ = __repr__


class AzureConfig(SecretValues):
    """Azure settings: ``azure*config.json`` files, then a .env, then the environment (last wins).

    Keys are lower case without ``AZURE_``: ``AZURE_SUBSCRIPTION_ID`` in .env, ``MLOPS_AZURE_...`` in the
    environment (prefix as in the original's ``RSI_AZURE_``) and Azure's own ``AZURE_SUBSCRIPTION_ID``,
    ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID`` (what a GitHub Actions job passes from its secrets) all
    become ``subscription_id`` and so on. ``folder`` (default: the current folder) holds the JSON files;
    the .env is searched there, then in its parent, unless ``env_path`` names it.
    """

    def __init__(self, folder: str | os.PathLike | None = None, *, env_path: PathArg = None,
                 prefix: str = AZURE_PREFIX, error_no_file_found: bool = False,
                 environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.folder = Path(folder) if folder is not None else Path.cwd()
        self.json_files = sorted(self.folder.glob("azure*config.json"))
        for file in self.json_files:
            self._merge(_read_json_settings(file), str(file))
        env_files = env_path if env_path is not None else find_env_files(self.folder)
        if env_path is None and not env_files and error_no_file_found:
            raise EnvFileNotFound(f"AzureConfig: no .env file in {self.folder} or its parent: create one "
                                  "(`cp .env.example .env`) or use `az login`")
        self._environ = os.environ if environ is None else environ
        self.env = EnvConfig(env_files, error_no_file_found, prefix, environ=self._environ)
        for key in self.env:
            self._merge({_azure_key(key): self.env[key]}, self.env.source(key))
        for name in STANDARD_AZURE_VARIABLES:
            if self._environ.get(name):
                self._merge({_azure_key(name): self._environ[name]}, f"environment variable {name}")

    def require(self, key: str, hint: str) -> str:
        """The value of ``key``, or an error naming the key and where to set it (``hint``)."""
        value = self.get(key)
        if not value:
            raise MlopsError(f"AzureConfig: {key} is not set: {hint}")
        return value

    @property
    def subscription_id(self) -> str:
        """The Azure subscription that holds the workspace."""
        return self.require("subscription_id", "set AZURE_SUBSCRIPTION_ID in .env (the GitHub secret in "
                            "Actions) or subscription_id in azure-config.json")

    @property
    def resource_group(self) -> str:
        """The workspace's resource group."""
        return self.require("resource_group", "set resource_group in azure-config.json")

    @property
    def workspace_name(self) -> str:
        """The Azure ML workspace."""
        return self.require("workspace_name", "set workspace_name in azure-config.json")

    @property
    def workspace(self) -> dict[str, str]:
        """The workspace coordinates, named as ``MLClient`` takes them."""
        return {"subscription_id": self.subscription_id, "resource_group_name": self.resource_group,
                "workspace_name": self.workspace_name}

    @property
    def environ(self) -> Mapping[str, str]:
        """The process environment this config read (the one a login should read too)."""
        return self._environ

    def __repr__(self) -> str:
        return (f"AzureConfig(folder={str(self.folder)!r}, json_files={[f.name for f in self.json_files]}, "
                f"env_files={[str(f) for f in self.env.files]}, keys={sorted(self._values)}, values hidden)")

    __str__ = __repr__


def _azure_key(name: str) -> str:
    lowered = name.lower()
    return lowered.removeprefix("azure_")


def _read_json_settings(file: Path) -> dict[str, str]:
    """The top-level settings of an ``azure*config.json`` file, keys lower-cased, ``$schema`` left out."""
    try:
        data = json.loads(file.read_text("utf-8"))
    except json.JSONDecodeError as error:
        raise MlopsError(f"{file}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise MlopsError(f"{file}: cannot read it: {error}") from None
    if not isinstance(data, dict):
        raise MlopsError(f"{file}:1:1: expected a JSON object of settings")
    return {key.lower(): value if isinstance(value, str) else json.dumps(value)
            for key, value in data.items() if key != "$schema"}
