"""What `choose()` did, for people: the errors it raises, `explain()`, printable records.

Imported on first use (an error, a report), through the package's `__getattr__`: a fat
package's import that goes well never builds these classes. Standard library only.
"""

import sys

from . import CHOICE_ATTRIBUTE, FORCE_VARIABLE, Choice


class InvalidCandidate(ValueError):
    """A package declared a candidate wrongly (bad property string, bad module name, duplicate)."""


class NoLoadableCandidate(ImportError):
    """No candidate, not even the baseline, could be loaded; `choice.attempts` says why each failed."""

    def __init__(self, message: str, *, name: str, choice: Choice) -> None:
        super().__init__(message, name=name)
        self.choice = choice


def explain(package: str) -> Choice:
    """What `choose()` did for `package` (importing it if needed): for bug reports."""
    module = sys.modules.get(package)
    if module is None:
        __import__(package)
        module = sys.modules[package]
    # Any copy of the runtime (vendored under another name) may have recorded it: its own
    # `Choice` class, with the same attributes.
    choice = getattr(module, CHOICE_ATTRIBUTE, None)
    if choice is None:
        raise LookupError(f"{package} did not choose its extension with fitwheel.runtime")
    return choice  # type: ignore[no-any-return]


def choice_dict(choice: Choice) -> "dict[str, object]":
    """`Choice.as_dict()`: the record as JSON-able data."""
    return {
        "package": choice.package,
        "chosen": choice.chosen,
        "force": choice.force,
        "attempts": [attempt.as_dict() for attempt in choice.attempts],
        "supported": {ns: dict(features) for ns, features in choice.supported.items()},
    }


def choice_text(choice: Choice) -> str:
    """`str(Choice)`: the record as lines a person can paste into a bug report."""
    lines = [f"{choice.package}: loaded {choice.chosen or 'nothing'}"]
    if choice.force is not None:
        lines.append(f"  {FORCE_VARIABLE}={choice.force}")
    for attempt in choice.attempts:
        lines.append(f"  {attempt.candidate}: {attempt.outcome}: {attempt.reason}")
    for namespace, features in sorted(choice.supported.items()):
        for feature, values in features.items():
            lines.append(f"  detected {namespace} :: {feature} :: {', '.join(values)}")
    return "\n".join(lines)
