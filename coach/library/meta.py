"""Exercise metadata: the human-editable ``exercise.toml`` of one reference, parsed and checked.

The file (format version 1)::

    format_version = 1
    name = "Mountain pose"
    tradition = "yoga"            # qigong | yoga | rehabilitation
    kind = "held"                 # flowing (a movement) | held (a posture)
    view = "front"                # the camera view the exercise expects: front | side
    description = "..."
    teaching_points = ["...", "..."]
    safety_notes = ["..."]
    source = "..."                # optional: who recorded the takes, where they come from
    left_right_mirrored = false   # optional: the takes' left/right labels are mirrored
    either_side = false           # optional: one-sided; the mirror image (other side) counts

    [weights]                     # feature name -> how much it counts (0..100)
    trunk_flexion_deg = 3.0

    [tolerances]                  # feature name -> allowed deviation, in the feature's unit
    trunk_flexion_deg = 8.0

    [hold]                        # held postures only
    seconds = 30.0                # how long the posture is meant to be held
    [hold.targets]                # feature name -> target value; each needs a tolerance
    trunk_flexion_deg = 0.0

Feature names are those of ``coach.features.FEATURES``. Every error names the file and field.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from coach.library.errors import MetadataError
from coach.readers import check_regular_file
from coach.text import printable

FORMAT_VERSION = 1
METADATA_FILE = "exercise.toml"
TRADITIONS = ("qigong", "yoga", "rehabilitation")
KINDS = ("flowing", "held")
VIEWS = ("front", "side")
#: Largest metadata file read, in bytes (a human-written file is a few kilobytes).
MAX_METADATA_BYTES = 256 * 1024
MAX_TEXT_CHARS = 4000
#: Text fields that may span several lines; every other text is one line.
MULTILINE_FIELDS = frozenset({"description"})
MAX_LIST_ITEMS = 40
MAX_WEIGHT = 100.0
MAX_TOLERANCE = 180.0
MAX_TARGET = 360.0
MAX_HOLD_S = 3600.0

_REQUIRED = ("format_version", "name", "tradition", "kind", "view", "description",
             "teaching_points", "safety_notes")
_OPTIONAL = ("source", "left_right_mirrored", "either_side", "weights", "tolerances", "hold")
#: A slug, matched in full (``re.fullmatch``: ``$`` alone would let a trailing newline in).
_SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


def _frozen_map(values: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class HoldSpec:
    """What a held posture asks for.

    seconds: how long the posture is meant to be held, in seconds.
    targets: feature name -> target value in the feature's unit (degrees for ``_deg``).
    """

    seconds: float
    targets: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", _frozen_map(self.targets))


@dataclass(frozen=True)
class ExerciseMeta:
    """One exercise's metadata, checked. ``weights``/``tolerances`` map feature names to numbers."""

    name: str
    tradition: str
    kind: str
    view: str
    description: str
    teaching_points: tuple[str, ...]
    safety_notes: tuple[str, ...]
    weights: Mapping[str, float] = field(default_factory=dict)
    tolerances: Mapping[str, float] = field(default_factory=dict)
    hold: HoldSpec | None = None
    source: str = ""
    left_right_mirrored: bool = False
    either_side: bool = False
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _frozen_map(self.weights))
        object.__setattr__(self, "tolerances", _frozen_map(self.tolerances))
        # Text is shown in terminals: no control characters, whoever built the metadata.
        for key in ("name", "tradition", "kind", "view", "description", "source"):
            text = printable(getattr(self, key), keep_newlines=key in MULTILINE_FIELDS)
            object.__setattr__(self, key, text.strip())
        for key in ("teaching_points", "safety_notes"):
            object.__setattr__(self, key, tuple(printable(t).strip() for t in getattr(self, key)))

    @property
    def is_held(self) -> bool:
        """True for a held posture (scored by time inside its targets)."""
        return self.kind == "held"

    def to_dict(self) -> dict[str, Any]:
        """The metadata as plain data, in the file's layout."""
        out: dict[str, Any] = {
            "format_version": self.format_version, "name": self.name,
            "tradition": self.tradition, "kind": self.kind, "view": self.view,
            "description": self.description, "teaching_points": list(self.teaching_points),
            "safety_notes": list(self.safety_notes),
        }
        if self.source:
            out["source"] = self.source
        if self.left_right_mirrored:
            out["left_right_mirrored"] = True
        if self.either_side:
            out["either_side"] = True
        if self.weights:
            out["weights"] = dict(self.weights)
        if self.tolerances:
            out["tolerances"] = dict(self.tolerances)
        if self.hold is not None:
            out["hold"] = {"seconds": self.hold.seconds, "targets": dict(self.hold.targets)}
        return out


# ---------------------------------------------------------------------------------------------
# Checking


def check_slug(slug: object) -> str:
    """Return ``slug`` if it is a safe folder name (lowercase letters, digits, inner hyphens)."""
    from coach.library.errors import SlugError

    if not isinstance(slug, str) or not _SLUG_RE.fullmatch(slug):
        shown = repr(slug) if len(repr(slug)) <= 80 else repr(slug)[:77] + "..."
        raise SlugError(
            f"exercise name {shown} is not a valid slug: use 1-64 lowercase letters, digits "
            "and inner hyphens (no slashes, dots or spaces)")
    return slug


def slugify(name: str) -> str:
    """A slug made from a display name: ``"Child's pose"`` -> ``"child-s-pose"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
    return check_slug(slug)


def known_feature_names() -> frozenset[str]:
    """The feature names metadata may refer to (``coach.features.FEATURES``)."""
    from coach.features import FEATURES

    return frozenset(spec.name for spec in FEATURES)


class _Checker:
    """Field checks that name the file and the field in every error."""

    def __init__(self, where: str, features: frozenset[str]) -> None:
        self.where = where
        self.features = features

    def fail(self, field_name: str, problem: str) -> MetadataError:
        return MetadataError(f"{self.where}: field '{printable(field_name)[:80]}': {problem}")

    def text(self, data: Mapping[str, Any], key: str, *, allow_empty: bool = False) -> str:
        """A text field, without control characters (terminal escapes would act when the
        text is listed); only the description keeps its line breaks."""
        value = data[key]
        if not isinstance(value, str):
            raise self.fail(key, f"expected text, got {type(value).__name__}")
        if len(value) > MAX_TEXT_CHARS:
            raise self.fail(key, f"longer than {MAX_TEXT_CHARS} characters")
        value = printable(value, keep_newlines=key in MULTILINE_FIELDS).strip()
        if not value and not allow_empty:
            raise self.fail(key, "must not be empty")
        return value

    def choice(self, data: Mapping[str, Any], key: str, options: tuple[str, ...]) -> str:
        value = self.text(data, key)
        if value not in options:
            raise self.fail(key, f"expected one of {', '.join(options)}, got {value[:40]!r}")
        return value

    def text_list(self, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = data[key]
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list of text, got {type(value).__name__}")
        if len(value) > MAX_LIST_ITEMS:
            raise self.fail(key, f"more than {MAX_LIST_ITEMS} items")
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str) and len(item) > MAX_TEXT_CHARS:
                raise self.fail(f"{key}[{i}]", f"longer than {MAX_TEXT_CHARS} characters")
            item = printable(item).strip() if isinstance(item, str) else ""
            if not item:
                raise self.fail(f"{key}[{i}]", "expected non-empty text")
            out.append(item)
        return tuple(out)

    def number(self, value: object, key: str, low: float, high: float,
               *, low_open: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"expected a number, got {type(value).__name__}")
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            number = math.inf
        if not math.isfinite(number):
            raise self.fail(key, "expected a finite number")
        if number < low or (low_open and number == low) or number > high:
            bracket = "(" if low_open else "["
            raise self.fail(key, f"expected a number in {bracket}{low:g}, {high:g}], got {value}")
        return number

    def feature_table(self, data: Mapping[str, Any], key: str, low: float, high: float,
                      *, low_open: bool = False) -> dict[str, float]:
        table = data.get(key, {})
        if not isinstance(table, dict):
            raise self.fail(key, f"expected a table of feature = number, got "
                                 f"{type(table).__name__}")
        out = {}
        for name, value in table.items():
            if name not in self.features:
                raise self.fail(f"{key}.{name}", "unknown feature (see `coach.features.FEATURES`)")
            out[name] = self.number(value, f"{key}.{name}", low, high, low_open=low_open)
        return out


def meta_from_dict(data: object, where: str,
                   features: Iterable[str] | None = None) -> ExerciseMeta:
    """Check parsed metadata and build an ``ExerciseMeta``; ``where`` names the file in errors."""
    check = _Checker(where, frozenset(known_feature_names() if features is None else features))
    if not isinstance(data, dict):
        raise MetadataError(f"{where}: expected a table of fields, got {type(data).__name__}")
    for key in data:
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise check.fail(key, "unknown field (a typo?)")
    for key in _REQUIRED:
        if key not in data:
            raise check.fail(key, "missing")
    version = data["format_version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise check.fail("format_version", f"expected an integer, got {type(version).__name__}")
    if version != FORMAT_VERSION:
        raise check.fail("format_version",
                         f"version {version} is not supported (this coach reads {FORMAT_VERSION})")
    kind = check.choice(data, "kind", KINDS)
    weights = check.feature_table(data, "weights", 0.0, MAX_WEIGHT)
    tolerances = check.feature_table(data, "tolerances", 0.0, MAX_TOLERANCE, low_open=True)
    if weights and not any(w > 0 for w in weights.values()):
        raise check.fail("weights", "at least one weight must be above 0")
    hold = _hold(check, data.get("hold"), kind, tolerances)
    flags = {}
    for key in ("left_right_mirrored", "either_side"):
        flags[key] = data.get(key, False)
        if not isinstance(flags[key], bool):
            raise check.fail(key, f"expected true or false, got {flags[key]!r}")
    return ExerciseMeta(
        name=check.text(data, "name"), tradition=check.choice(data, "tradition", TRADITIONS),
        kind=kind, view=check.choice(data, "view", VIEWS),
        description=check.text(data, "description"),
        teaching_points=check.text_list(data, "teaching_points"),
        safety_notes=check.text_list(data, "safety_notes"),
        weights=weights, tolerances=tolerances, hold=hold,
        source=check.text(data, "source", allow_empty=True) if "source" in data else "",
        left_right_mirrored=flags["left_right_mirrored"], either_side=flags["either_side"],
        format_version=version,
    )


def _hold(check: _Checker, hold: object, kind: str,
          tolerances: Mapping[str, float]) -> HoldSpec | None:
    if kind == "flowing":
        if hold is not None:
            raise check.fail("hold", "only a held posture (kind = \"held\") has a [hold] table")
        return None
    if hold is None:
        raise check.fail("hold", "missing: a held posture needs [hold] with seconds and targets")
    if not isinstance(hold, dict):
        raise check.fail("hold", f"expected a table, got {type(hold).__name__}")
    for key in hold:
        if key not in ("seconds", "targets"):
            raise check.fail(f"hold.{key}", "unknown field (a typo?)")
    if "seconds" not in hold:
        raise check.fail("hold.seconds", "missing")
    if "targets" not in hold:
        raise check.fail("hold.targets", "missing")
    seconds = check.number(hold["seconds"], "hold.seconds", 0.0, MAX_HOLD_S, low_open=True)
    targets = check.feature_table(hold, "targets", -MAX_TARGET, MAX_TARGET)
    if not targets:
        raise check.fail("hold.targets", "a held posture needs at least one target feature")
    for name in targets:
        if name not in tolerances:
            raise check.fail(f"hold.targets.{name}", "has no tolerance in [tolerances]")
    return HoldSpec(seconds=seconds, targets=targets)


def parse_meta(text: str, where: str, features: Iterable[str] | None = None) -> ExerciseMeta:
    """Parse and check the TOML text of a metadata file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MetadataError(f"{where}: not valid TOML: {printable(str(exc))[:200]}") from None
    except RecursionError:
        raise MetadataError(f"{where}: not valid TOML: nested too deeply") from None
    except ValueError:  # an integer of more digits than Python converts (4300)
        raise MetadataError(f"{where}: not valid TOML: a number with too many digits") \
            from None
    return meta_from_dict(data, where, features)


def read_meta(path: Path, features: Iterable[str] | None = None) -> ExerciseMeta:
    """Read and check one ``exercise.toml``."""
    if not path.exists() and not path.is_symlink():
        raise MetadataError(f"{path}: missing (every exercise folder needs one)")
    check_regular_file(path, MAX_METADATA_BYTES, "a metadata file", MetadataError)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MetadataError(f"{path}: missing (every exercise folder needs one)") from None
    except OSError as exc:
        raise MetadataError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MetadataError(f"{path}: not UTF-8 text") from None
    return parse_meta(text, str(path), features)


# ---------------------------------------------------------------------------------------------
# Writing (the format uses a small subset of TOML, so a small writer suffices)


def _toml_string(text: str) -> str:
    escaped = json.dumps(text, ensure_ascii=False)
    return escaped.replace("\x7f", "\\u007f")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[\n" + "".join(f"    {_toml_value(v)},\n" for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def meta_to_toml(meta: ExerciseMeta) -> str:
    """The metadata as TOML text that ``parse_meta`` reads back to an equal ``ExerciseMeta``."""
    data = meta.to_dict()
    tables = {key: data.pop(key) for key in ("weights", "tolerances", "hold") if key in data}
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items()]
    for key in ("weights", "tolerances"):
        if key in tables:
            lines += ["", f"[{key}]"]
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in tables[key].items()]
    if "hold" in tables:
        lines += ["", "[hold]", f"seconds = {_toml_value(tables['hold']['seconds'])}",
                  "", "[hold.targets]"]
        targets = tables["hold"]["targets"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in targets.items()]
    return "\n".join(lines) + "\n"
