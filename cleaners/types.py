"""Values passed between cleaning steps: paragraphs, gaps, removals and the result of a step."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Gap:
    """Where a page withheld text: 'omitted' (a middle cut by a paywall) or 'truncated' (the end)."""

    kind: str
    chars: int | None = None  # characters withheld, when the page says
    stated_total: int | None = None  # the full length the page claims, when it says


Para = str | Gap


@dataclass(frozen=True)
class Removal:
    """One span a cleaner took out, and why (a dotted reason code such as 'chrome.breadcrumb')."""

    reason: str
    text: str


@dataclass
class StepOut:
    paras: list[Para]
    removals: list[Removal] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)


def texts(paras: list[Para]) -> list[str]:
    return [p for p in paras if isinstance(p, str)]
