"""The verdict on a fleet chaos run, in the manner of Jepsen: histories in, one `valid?` out.

A chaos run kills services, restarts Kafka and the database and lets the platform sandbox inject
faults, then collects three histories: what it submitted (`Item`), what Herald says happened to
each (`Final`) and what the platforms actually show (`Visible`, the sandbox's ledger), plus the
faults it injected (`Fault`). `check` compares them, so that every chaos test judges a run by the
same rules instead of each counting its own way.

The rules, and why:

- lost: accepted, yet Herald holds no record and the platform shows nothing. The one failure a
  publishing system must never have.
- stuck: still pending after the run settled. Herald promises an end state for every target.
- wrong: Herald's word contradicts the platform: published but not visible, failed but visible,
  no record but visible, or visible on a platform the item was not sent to.
- duplicated: the platform shows an item more than once. A call that cannot be checked before it
  is repeated (Facebook's feed post) may take effect and then lose its publisher to a SIGKILL
  before Herald records it; the restarted publisher cannot see it and publishes again. Such a
  duplicate is tolerated only on a platform in `may_duplicate` and only if a kill of that
  platform's publisher fell inside the call: no earlier than the copy before, no later than
  `window_s` after it and before the next copy. Each kill explains one extra copy at most, so
  tolerated duplicates never outnumber kills inside platform calls.

The module is pure (no I/O, no clock) so that its rules are unit-tested on handmade histories.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal, TypeVar

Outcome = Literal["published", "failed", "pending", "missing"]
V = TypeVar("V")

PLATFORMS = ("facebook", "instagram", "tiktok", "whatsapp")
"""The platforms `Verdict.summary` always names, so that a `result:` line keeps its keys."""

PUBLISHED_NOT_VISIBLE = "published but not visible"
FAILED_BUT_VISIBLE = "failed but visible"
NO_RECORD_BUT_VISIBLE = "no record but visible"

COLUMNS = ("items", "published", "failed", "visible", "lost", "stuck", "wrong", "duplicated")

REPORT_LIMIT = 20
"""Problems listed per category in `Verdict.report`; a run gone badly wrong stays readable."""


@dataclass(frozen=True)
class Item:
    """One unit the platform should see at most once: a post target or a broadcast recipient."""

    key: str  # unique per item: the marker in the post text, or the recipient's phone number
    platform: str  # facebook | instagram | tiktok | whatsapp
    kind: str  # "text", "photo", "carousel", "reel", "video", "template", "broadcast-recipient"


@dataclass(frozen=True)
class Final:
    """Herald's view of one item at the end of the run."""

    key: str
    outcome: Outcome
    status: str  # Herald's own status word, for the report


@dataclass(frozen=True)
class Visible:
    """One side effect a platform shows: a publish, or an accepted WhatsApp message."""

    key: str
    platform: str
    at: float  # unix seconds


@dataclass(frozen=True)
class Fault:
    """One fault the run injected."""

    kind: str  # "kill", "kafka_restart", "db_restart", "sandbox"
    target: str  # "publisher-facebook", "kafka", "postgres", "ferretdb", "<platform>:<action>"
    at: float  # unix seconds


@dataclass(frozen=True)
class Duplicate:
    """An item the platform shows more than once, with the kills that may explain the extras."""

    key: str
    platform: str
    copies: int
    first_at: float
    explained_by: Fault | None  # the kill inside the first copy's call, if every extra is explained
    kills: tuple[Fault, ...] = ()  # one kill per extra copy when all are explained, else empty


@dataclass(frozen=True)
class Totals:
    """Counts of items for one platform (`kind` is "*") or one kind on one platform."""

    platform: str
    kind: str
    items: int
    published: int  # Herald's word
    failed: int  # Herald's word
    visible: int  # side effects the platform shows for these items, copies included
    lost: int
    stuck: int
    wrong: int  # items with at least one wrong entry
    duplicated: int  # items shown more than once


@dataclass(frozen=True)
class Verdict:
    """What `check` found. `valid` is the verdict; the rest says why, for the report."""

    valid: bool
    platforms: tuple[Totals, ...]
    kinds: tuple[Totals, ...]
    lost: tuple[str, ...]
    stuck: tuple[tuple[str, str], ...]  # (key, status)
    wrong: tuple[tuple[str, str, str], ...]  # (key, reason, status)
    duplicates: tuple[Duplicate, ...]
    kills_inside_calls: int  # kills that explain a duplicate copy
    faults: tuple[tuple[str, int], ...]  # (kind, count), by kind
    foreign: int  # side effects whose key is no item of this run: other tests' traffic
    may_duplicate: frozenset[str] = frozenset({"facebook"})
    window_s: float = 5.0

    def summary(self) -> dict[str, int | bool]:
        """Flat figures for a `result:` line; the keys are the same whatever the run did."""
        figures: dict[str, int | bool] = {
            "valid": self.valid,
            "items": sum(t.items for t in self.platforms),
            "lost": len(self.lost),
            "stuck": len(self.stuck),
            "wrong": len({key for key, _, _ in self.wrong}),
            "duplicated": len(self.duplicates),
        }
        for platform in PLATFORMS:
            figures[f"duplicated_{platform}"] = sum(
                1 for d in self.duplicates if d.platform == platform
            )
        figures["kills"] = dict(self.faults).get("kill", 0)
        figures["faults"] = sum(n for _, n in self.faults)
        return figures

    def report(self) -> str:
        """A human-readable account: the verdict first, then the tables, then every problem."""
        lines = [f"valid? {'true' if self.valid else 'false'}", ""]
        lines += _table(
            ("platform", *COLUMNS),
            [(t.platform, *_figures(t)) for t in self.platforms],
        )
        lines.append("")
        lines += _table(
            ("platform", "kind", *COLUMNS),
            [(t.platform, t.kind, *_figures(t)) for t in self.kinds],
        )
        lines.append("")
        faults = ", ".join(f"{kind} {n}" for kind, n in self.faults) or "none"
        lines.append(f"faults: {faults}")
        lines.append(f"kills inside platform calls: {self.kills_inside_calls}")
        lines.append(f"foreign side effects ignored: {self.foreign}")
        lines += _section("lost (accepted, no record, not visible)", list(self.lost))
        lines += _section("stuck", [f"{key}: still {status}" for key, status in self.stuck])
        lines += _section(
            "wrong",
            [f"{key}: {reason} (status {status or 'none'})" for key, reason, status in self.wrong],
        )
        lines += _section("duplicated", [self._explain(d) for d in self.duplicates])
        return "\n".join(lines)

    def _explain(self, duplicate: Duplicate) -> str:
        line = f"{duplicate.key} on {duplicate.platform}: {duplicate.copies} copies"
        if duplicate.explained_by is None:
            line += (
                f", unexplained: no unused kill of publisher-{duplicate.platform} within"
                f" {self.window_s:g} s after each copy"
            )
        else:
            after = ", ".join(f"{k.at - duplicate.first_at:+.2f} s" for k in duplicate.kills)
            line += f", explained by kill of {duplicate.explained_by.target} at {after}"
        if duplicate.platform not in self.may_duplicate:
            line += f"; {duplicate.platform} must never duplicate"
        return line


def check(
    items: Iterable[Item],
    finals: Iterable[Final],
    visible: Iterable[Visible],
    faults: Iterable[Fault],
    *,
    may_duplicate: frozenset[str] = frozenset({"facebook"}),
    window_s: float = 5.0,
) -> Verdict:
    """Judge a chaos run. Raises `ValueError` if two items or two finals share a key: the
    histories would be ambiguous, and a verdict on them meaningless."""
    submitted = tuple(items)
    known = _unique({}, ((i.key, i) for i in submitted), "item")
    final_of = _unique({}, ((f.key, f) for f in finals if f.key in known), "final")
    injected = tuple(faults)

    copies: dict[str, list[Visible]] = defaultdict(list)
    astray: dict[str, set[str]] = defaultdict(set)
    foreign = 0
    for effect in visible:
        item = known.get(effect.key)
        if item is None:
            foreign += 1
        elif effect.platform == item.platform:
            copies[effect.key].append(effect)
        else:
            astray[effect.key].add(effect.platform)

    lost: list[str] = []
    stuck: list[tuple[str, str]] = []
    wrong: list[tuple[str, str, str]] = []
    for item in submitted:
        final = final_of.get(item.key)
        outcome: Outcome = "missing" if final is None else final.outcome
        status = "" if final is None else final.status
        seen = len(copies.get(item.key, ()))
        if outcome == "pending":
            stuck.append((item.key, status))
        elif outcome == "missing" and seen:
            wrong.append((item.key, NO_RECORD_BUT_VISIBLE, status))
        elif outcome == "missing":
            lost.append(item.key)
        elif outcome == "published" and not seen:
            wrong.append((item.key, PUBLISHED_NOT_VISIBLE, status))
        elif outcome == "failed" and seen:
            wrong.append((item.key, FAILED_BUT_VISIBLE, status))
        wrong.extend(
            (item.key, f"visible on {other}, sent to {item.platform}", status)
            for other in sorted(astray.get(item.key, ()))
        )

    duplicates = _attribute(
        [sorted(c, key=lambda v: v.at) for c in copies.values() if len(c) > 1],
        sorted((f for f in injected if f.kind == "kill"), key=lambda f: f.at),
        window_s,
    )
    valid = (
        not lost
        and not stuck
        and not wrong
        and all(d.platform in may_duplicate and d.explained_by is not None for d in duplicates)
    )

    problems = _Problems(
        outcome={k: f.outcome for k, f in final_of.items()},
        visible={k: len(c) for k, c in copies.items()},
        lost=set(lost),
        stuck={key for key, _ in stuck},
        wrong={key for key, _, _ in wrong},
        duplicated={d.key for d in duplicates},
    )
    by_platform: dict[str, list[Item]] = defaultdict(list)
    by_kind: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for item in submitted:
        by_platform[item.platform].append(item)
        by_kind[item.platform, item.kind].append(item)

    return Verdict(
        valid=valid,
        platforms=tuple(
            problems.totals(p, "*", by_platform[p]) for p in _platform_order(by_platform)
        ),
        kinds=tuple(
            problems.totals(p, k, by_kind[p, k])
            for p in _platform_order(by_platform)
            for k in sorted(k for q, k in by_kind if q == p)
        ),
        lost=tuple(lost),
        stuck=tuple(stuck),
        wrong=tuple(wrong),
        duplicates=tuple(duplicates),
        kills_inside_calls=sum(len(d.kills) for d in duplicates),
        faults=tuple(sorted(Counter(f.kind for f in injected).items())),
        foreign=foreign,
        may_duplicate=may_duplicate,
        window_s=window_s,
    )


@dataclass(frozen=True)
class _Problems:
    """Per-key facts `check` found, from which every row of the tables is counted."""

    outcome: dict[str, Outcome]
    visible: dict[str, int]
    lost: set[str]
    stuck: set[str]
    wrong: set[str]
    duplicated: set[str]

    def totals(self, platform: str, kind: str, items: Sequence[Item]) -> Totals:
        keys = [i.key for i in items]
        return Totals(
            platform=platform,
            kind=kind,
            items=len(keys),
            published=sum(1 for k in keys if self.outcome.get(k) == "published"),
            failed=sum(1 for k in keys if self.outcome.get(k) == "failed"),
            visible=sum(self.visible.get(k, 0) for k in keys),
            lost=sum(1 for k in keys if k in self.lost),
            stuck=sum(1 for k in keys if k in self.stuck),
            wrong=sum(1 for k in keys if k in self.wrong),
            duplicated=sum(1 for k in keys if k in self.duplicated),
        )


def _attribute(shown: list[list[Visible]], kills: list[Fault], window_s: float) -> list[Duplicate]:
    """Pair every extra copy with the earliest unused kill of its publisher inside the call of
    the copy before it (and before the extra copy itself, which the restarted publisher made).
    Duplicates are taken by first copy; one kill never explains two copies. An item whose extras
    cannot all be explained uses up no kill, so that it cannot starve a later duplicate."""
    used: set[int] = set()
    duplicates: list[Duplicate] = []
    for seen in sorted(shown, key=lambda s: s[0].at):
        publisher = f"publisher-{seen[0].platform}"
        chosen: list[int] = []
        for before, after in pairwise(seen):
            found = next(
                (
                    n
                    for n, kill in enumerate(kills)
                    if n not in used
                    and n not in chosen
                    and kill.target == publisher
                    and before.at <= kill.at <= min(before.at + window_s, after.at)
                ),
                None,
            )
            if found is None:
                chosen = []
                break
            chosen.append(found)
        used.update(chosen)
        explained = tuple(kills[n] for n in chosen)
        duplicates.append(
            Duplicate(
                key=seen[0].key,
                platform=seen[0].platform,
                copies=len(seen),
                first_at=seen[0].at,
                explained_by=explained[0] if explained else None,
                kills=explained,
            )
        )
    return duplicates


def _unique(into: dict[str, V], pairs: Iterable[tuple[str, V]], what: str) -> dict[str, V]:
    for key, value in pairs:
        if key in into:
            msg = f"two {what}s share the key {key!r}; a history names each key once"
            raise ValueError(msg)
        into[key] = value
    return into


def _platform_order(platforms: Iterable[str]) -> list[str]:
    present = set(platforms)
    return [p for p in PLATFORMS if p in present] + sorted(present - set(PLATFORMS))


def _figures(t: Totals) -> tuple[int, ...]:
    return (t.items, t.published, t.failed, t.visible, t.lost, t.stuck, t.wrong, t.duplicated)


def _table(header: Sequence[str], rows: Sequence[Sequence[str | int]]) -> list[str]:
    """Left-aligned words, right-aligned numbers, columns as wide as their widest cell."""
    cells = [list(header), *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[n]) for row in cells) for n in range(len(header))]
    words = sum(1 for c in (rows[0] if rows else ()) if isinstance(c, str)) or 1
    return [
        "  ".join(
            cell.ljust(width) if n < words else cell.rjust(width)
            for n, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]


def _section(title: str, entries: Sequence[str]) -> list[str]:
    if not entries:
        return []
    lines = ["", f"{title}: {len(entries)}"]
    lines += [f"  {e}" for e in entries[:REPORT_LIMIT]]
    if len(entries) > REPORT_LIMIT:
        lines.append(f"  ... and {len(entries) - REPORT_LIMIT} more")
    return lines
