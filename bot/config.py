"""config.yaml → frozen ``Settings``. The only module that reads the config file.

Every section (the core's and the frontends') is checked by one typed reader, ``read``:
field types come from the dataclass, ranges from ``field(metadata={"range": …})`` (or, for
the retrieval core's own dataclasses, from ``CORE_RANGES``). ``null`` means the default.
Secrets (the Telegram token) never live here: they come from the environment.
"""
from __future__ import annotations

import dataclasses
import math
import os
import reprlib
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from retrieval.analysis import AnalysisSettings
from retrieval.index import BM25Settings
from retrieval.safetext import printable
from retrieval.search import SearchSettings
from retrieval.store import RetrievalSettings

ROOT = Path(__file__).resolve().parent.parent


def defaults() -> Path:
    """Where the default config.yaml and seeds/ are: the top of a checkout (or an editable
    install), else their copies that pyproject.toml packages as ``bot/defaults``."""
    if (ROOT / "config.yaml").is_file() and (ROOT / "bot").is_dir():
        return ROOT
    return Path(str(resources.files("bot").joinpath("defaults")))


DEFAULT_CONFIG = defaults() / "config.yaml"
MAX_CONFIG = 1 << 20  # bytes; a settings file is a few kB
MAX_ALIASES = 100  # YAML aliases in one file (a "billion laughs" bomb uses thousands)


class ConfigError(Exception):
    """config.yaml is missing, unreadable, or has a bad key or value."""


def limit(low: float, high: float = math.inf, what: str | None = None) -> dict:
    """``field`` arguments for a number from ``low`` to ``high`` (``what``: the error's wording for it)."""
    return {"metadata": {"range": (low, high), **({"what": what} if what else {})}}


def described(what: str) -> dict:
    """``field`` arguments naming what a value should be, for the error message (e.g. "a list of ids")."""
    return {"metadata": {"what": what}}


@dataclass(frozen=True)
class PassageSettings:  # the passages: section; its defaults are RetrievalSettings'
    target: int = field(default=RetrievalSettings.passage_target, **limit(1, 100_000))
    max: int = field(default=RetrievalSettings.passage_max, **limit(1, 1_000_000))
    overlap: bool = RetrievalSettings.passage_overlap
    title_weight: int = field(default=RetrievalSettings.title_weight, **limit(0, 100))


MAX_K = 100  # passages an answer may show


@dataclass(frozen=True)
class SearchSection(SearchSettings):
    k: int = field(default=5, **limit(1, MAX_K))


# ranges of the retrieval core's settings (its dataclasses carry no config metadata)
CORE_RANGES: dict[type, dict[str, tuple[float, float]]] = {
    BM25Settings: {"k1": (0, 100), "b": (0, 1)},
    SearchSettings: {"bigram_weight": (0, 10), "unigram_weight": (0, 10), "unigram_max_share": (0, 1),
                     "context_weight": (0, 10), "min_coverage": (0, 1), "max_question": (1, 1_000_000),
                     "candidates": (1, 10_000), "sentence_weight": (0, 10), "edge_weight": (0, 10),
                     "answer_kind_weight": (0, 10), "synonym_weight": (0, 10)},
}

FRONTEND_SECTIONS = ("telegram", "repl", "ui")  # ui: bot/i18n.py


@dataclass(frozen=True)
class ClusterSettings:
    address: str = ""  # tcp://HOST:PORT of a Dask scheduler serving the sharded index (docs/cluster.md)
    timeout: float = 30.0  # seconds a worker has to answer before its shards are asked of their other copy


@dataclass(frozen=True)
class Settings:
    corpus: tuple[Path, ...] = (defaults() / "seeds",)
    index_dir: Path = Path("~/.cache/qabot").expanduser()
    passages: PassageSettings = field(default_factory=PassageSettings)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    bm25: BM25Settings = field(default_factory=BM25Settings)
    search: SearchSection = field(default_factory=SearchSection)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    extra: dict = field(default_factory=dict)  # sections owned by frontends (telegram, repl), read with ``read``

    def retrieval(self) -> RetrievalSettings:
        search = SearchSettings(**{f.name: getattr(self.search, f.name) for f in fields(SearchSettings)})
        p = self.passages
        return RetrievalSettings(self.analysis, self.bm25, search, p.target, p.max, p.overlap, p.title_weight)


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read ``path`` (default: the bundled config.yaml); the environment may override the index folder."""
    file = Path(path) if path else DEFAULT_CONFIG
    raw = read_yaml(file)
    extra = {k: raw.pop(k) for k in FRONTEND_SECTIONS if k in raw}
    values = read_fields(Settings, raw, str(file), skip={"extra"}, also=FRONTEND_SECTIONS, sep=": ")
    base = file.resolve().parent
    if "corpus" in values:
        values["corpus"] = tuple(base / c.expanduser() for c in values["corpus"])
    if "index_dir" in values:
        values["index_dir"] = base / values["index_dir"].expanduser()
    if os.environ.get("QABOT_INDEX_DIR"):
        values["index_dir"] = Path(os.environ["QABOT_INDEX_DIR"]).expanduser()
    if values.get("analysis") and values["analysis"].user_dict:
        ud = base / Path(values["analysis"].user_dict).expanduser()
        values["analysis"] = dataclasses.replace(values["analysis"], user_dict=str(ud))
    settings = Settings(**values, extra=extra)
    if settings.passages.max < settings.passages.target:
        raise ConfigError(f"{file}: passages.max ({settings.passages.max}) should be at least passages.target "
                          f"({settings.passages.target})")
    return settings


def read_yaml(file: Path) -> dict:
    import yaml  # loaded late: only the CLI needs it

    class Loader(yaml.SafeLoader):
        aliases = 0

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                Loader.aliases += 1
                if Loader.aliases > MAX_ALIASES:
                    raise ConfigError(f"{file}: more than {MAX_ALIASES} YAML aliases (*name); write the values out")
            return super().compose_node(parent, index)

    try:
        with open(file, "rb") as f:
            data = f.read(MAX_CONFIG + 1)
        if len(data) > MAX_CONFIG:
            raise ConfigError(f"{file}: over {MAX_CONFIG >> 20} MB; a settings file is a few kB")
        raw = yaml.load(data.decode("utf-8"), Loader=Loader) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}. Pass --config FILE or copy {DEFAULT_CONFIG}.") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        raise ConfigError(f"cannot read config {file}: {clip(str(exc), 300)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping of settings at the top level")
    return raw


def read(cls: type, raw: Any, where: str) -> Any:
    """The dataclass ``cls`` from a raw config section (None: every default); ConfigError when
    a key is unknown or a value has the wrong type or is out of range."""
    return cls(**read_fields(cls, raw, where))


def read_fields(cls: type, raw: Any, where: str, skip=frozenset(), also=(), sep: str = ".") -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} should be a mapping of settings, not {excerpt(raw)}")
    known = {f.name: f for f in fields(cls) if f.name not in skip}
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            valid = ", ".join(sorted(list(known) + list(also)))
            raise ConfigError(f"{where}: unknown key {excerpt(key)}; valid keys: {valid}")
        if value is not None:
            name = f"{where}{sep}{key}"
            try:
                out[key] = convert(value, hints[key], name, value_range(cls, known[key]))
            except ConfigError as exc:
                what = known[key].metadata.get("what")
                raise ConfigError(f"{name} should be {what}, not {excerpt(value)}") if what else exc from None
    return out


def value_range(cls: type, f: dataclasses.Field) -> tuple[float, float] | None:
    if "range" in f.metadata:
        return f.metadata["range"]
    for owner in cls.__mro__:
        if f.name in CORE_RANGES.get(owner, {}):
            return CORE_RANGES[owner][f.name]
    return None


def convert(value: Any, hint: Any, name: str, rng: tuple[float, float] | None) -> Any:
    """``value`` as the type ``hint`` (within ``rng`` for numbers), or a ConfigError naming it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return convert(value, next(a for a in args if a is not type(None)), name, rng)
    if is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{name} should be a mapping of settings, not {excerpt(value)}")
        return read(hint, value, name)
    if isinstance(value, dict):
        raise ConfigError(f"{name} should be a single value, not a mapping")
    if origin is tuple:
        items = value if isinstance(value, list) else [value]
        return tuple(convert(v, args[0], f"{name}[{i}]", rng) for i, v in enumerate(items))
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{name} should be true or false, not {excerpt(value)}")
    if hint in (int, float):
        return number(value, hint, name, rng)
    if isinstance(value, str) and value.strip():
        return Path(value) if hint is Path else value.strip()
    what = "a file path or folder path" if hint is Path else "a non-empty string"
    raise ConfigError(f"{name} should be {what}, not {excerpt(value)}")


def number(value: Any, kind: type, name: str, rng: tuple[float, float] | None) -> int | float:
    low, high = rng or (-math.inf, math.inf)
    whole = isinstance(value, int) and not isinstance(value, bool)
    fits = whole or (kind is float and isinstance(value, float) and math.isfinite(value))
    if fits and low <= value <= high:
        return kind(value)
    noun = "a whole number" if kind is int else "a number"
    span = f" from {fmt(low)} to {fmt(high)}" if high < math.inf else f" of at least {fmt(low)}" if low > -math.inf else ""
    raise ConfigError(f"{name} should be {noun}{span}, not {excerpt(value)}")


def fmt(bound: float) -> str:
    return str(int(bound)) if bound == int(bound) else f"{bound:g}"


_short = reprlib.Repr()
_short.maxlevel, _short.maxlist, _short.maxdict, _short.maxstring, _short.maxother = 2, 4, 4, 60, 60


def excerpt(value: Any) -> str:
    """A short, printable rendering of a (possibly huge or nested) bad value."""
    return clip(_short.repr(value), 80)


def clip(text: str, width: int) -> str:
    return printable(text if len(text) <= width else text[: width - 1] + "…")
