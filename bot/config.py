"""config.yaml → frozen ``Settings``. The only module that reads the config file.

Secrets (the Telegram token) never live here: they come from the environment.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from retrieval.analysis import AnalysisSettings
from retrieval.index import BM25Settings
from retrieval.search import SearchSettings
from retrieval.store import RetrievalSettings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.yaml"


class ConfigError(Exception):
    """config.yaml is missing, unreadable, or has a bad key or value."""


@dataclass(frozen=True)
class PassageSettings:
    target: int = 200
    max: int = 400
    overlap: bool = True
    title_weight: int = 3


@dataclass(frozen=True)
class SearchSection(SearchSettings):
    k: int = 5


@dataclass(frozen=True)
class Settings:
    corpus: tuple[Path, ...] = (ROOT / "seeds",)
    index_dir: Path = Path("~/.cache/qabot").expanduser()
    passages: PassageSettings = field(default_factory=PassageSettings)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    bm25: BM25Settings = field(default_factory=BM25Settings)
    search: SearchSection = field(default_factory=SearchSection)
    extra: dict = field(default_factory=dict)  # sections owned by frontends (telegram, repl)

    def retrieval(self) -> RetrievalSettings:
        search = SearchSettings(**{f.name: getattr(self.search, f.name) for f in fields(SearchSettings)})
        p = self.passages
        return RetrievalSettings(self.analysis, self.bm25, search, p.target, p.max, p.overlap, p.title_weight)


FRONTEND_SECTIONS = ("telegram", "repl", "ui")  # ui: bot/i18n.py


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read ``path`` (default: the project's config.yaml); the environment may override the index folder."""
    import yaml  # loaded late: only the CLI needs it

    file = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}. Pass --config FILE or copy {DEFAULT_CONFIG}.") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config {file}: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping of settings at the top level")
    extra = {k: raw.pop(k) for k in FRONTEND_SECTIONS if k in raw}
    values = section(Settings, raw, str(file), skip={"extra"})
    base = file.resolve().parent
    corpus = values.get("corpus", ["seeds"] if "corpus" in raw else None)
    if corpus is not None:
        items = [corpus] if isinstance(corpus, str) else corpus
        values["corpus"] = tuple((base / Path(c).expanduser()) for c in items)
    if "index_dir" in values:
        values["index_dir"] = base / Path(values["index_dir"]).expanduser()
    if os.environ.get("QABOT_INDEX_DIR"):
        values["index_dir"] = Path(os.environ["QABOT_INDEX_DIR"]).expanduser()
    if values.get("analysis") and values["analysis"].user_dict:
        ud = base / Path(values["analysis"].user_dict).expanduser()
        values["analysis"] = dataclasses.replace(values["analysis"], user_dict=str(ud))
    return Settings(**values, extra=extra)


def section(cls: type, raw: dict, where: str, skip: set[str] = frozenset()) -> dict[str, Any]:
    """Check ``raw`` against the dataclass ``cls``: unknown keys and wrong types are errors."""
    known = {f.name: f for f in fields(cls) if f.name not in skip}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            valid = ", ".join(sorted(known) + (list(FRONTEND_SECTIONS) if cls is Settings else []))
            raise ConfigError(f"{where}: unknown key {key!r}; valid keys: {valid}")
        default = getattr(cls(), key) if cls is not Settings else None
        if isinstance(value, dict):
            sub = type(getattr(Settings(), key, None)) if cls is Settings else None
            if sub is None or not is_dataclass(sub):
                raise ConfigError(f"{where}: {key} should be a single value, not a mapping")
            out[key] = sub(**section(sub, value, f"{where}: {key}"))
        elif cls is Settings:
            if key in ("corpus", "index_dir") and value is not None:
                out[key] = value
            elif value is not None:
                raise ConfigError(f"{where}: {key} should be a mapping of settings")
        else:
            out[key] = checked(value, default, f"{where}.{key}")
    return out


def checked(value: Any, default: Any, name: str) -> Any:
    """``value`` if it has the type of ``default`` (ints pass for floats), else a ConfigError."""
    if default is None or value is None:
        return value
    if isinstance(default, bool) or isinstance(value, bool):
        if isinstance(value, bool) and isinstance(default, bool):
            return value
    elif isinstance(default, float) and isinstance(value, (int, float)):
        return float(value)
    elif isinstance(value, type(default)):
        return value
    raise ConfigError(f"{name} should be a {type(default).__name__}, not {value!r}")
