"""The chaos checker's rules on handmade histories: what counts as lost, stuck, wrong and an
explained duplicate, so that a chaos run's verdict can be trusted without rerunning the chaos."""

from __future__ import annotations

import pytest
from tests.chaos.checker import (
    FAILED_BUT_VISIBLE,
    NO_RECORD_BUT_VISIBLE,
    PUBLISHED_NOT_VISIBLE,
    REPORT_LIMIT,
    Fault,
    Final,
    Item,
    Outcome,
    Verdict,
    Visible,
    check,
)

pytestmark = pytest.mark.unit

T0 = 1_700_000_000.0

ITEMS = (
    Item("fb-1", "facebook", "text"),
    Item("ig-1", "instagram", "photo"),
    Item("tt-1", "tiktok", "video"),
    Item("+15550001", "whatsapp", "broadcast-recipient"),
)


def _published(items: tuple[Item, ...]) -> list[Final]:
    return [Final(i.key, "published", "published") for i in items]


def _shown(items: tuple[Item, ...]) -> list[Visible]:
    return [Visible(i.key, i.platform, T0 + n) for n, i in enumerate(items)]


def _kill(platform: str, at: float) -> Fault:
    return Fault("kill", f"publisher-{platform}", at)


def _one(item: Item, outcome: Outcome | None, copies: int) -> Verdict:
    finals = [] if outcome is None else [Final(item.key, outcome, outcome)]
    shown = [Visible(item.key, item.platform, T0 + n) for n in range(copies)]
    return check([item], finals, shown, [])


def _duplicated(platform: str, kills: list[Fault], *, first: float = T0) -> Verdict:
    item = Item("k1", platform, "text")
    shown = [Visible("k1", platform, first), Visible("k1", platform, first + 20.0)]
    return check([item], [Final("k1", "published", "published")], shown, kills)


def test_a_clean_run_is_valid() -> None:
    faults = [
        _kill("facebook", T0 - 10),
        Fault("kafka_restart", "kafka", T0 - 5),
        Fault("db_restart", "postgres", T0 - 3),
        Fault("sandbox", "instagram:publish", T0 - 1),
    ]

    verdict = check(ITEMS, _published(ITEMS), _shown(ITEMS), faults)

    assert verdict.valid
    assert (verdict.lost, verdict.stuck, verdict.wrong, verdict.duplicates) == ((), (), (), ())
    assert [(t.platform, t.items, t.published, t.visible) for t in verdict.platforms] == [
        ("facebook", 1, 1, 1),
        ("instagram", 1, 1, 1),
        ("tiktok", 1, 1, 1),
        ("whatsapp", 1, 1, 1),
    ]
    assert verdict.faults == (("db_restart", 1), ("kafka_restart", 1), ("kill", 1), ("sandbox", 1))
    assert verdict.kills_inside_calls == 0
    assert verdict.report().startswith("valid? true\n")


@pytest.mark.parametrize("outcome", [None, "missing"])
def test_an_accepted_item_without_record_or_trace_is_lost(outcome: Outcome | None) -> None:
    verdict = _one(Item("gone", "instagram", "reel"), outcome, copies=0)

    assert not verdict.valid
    assert verdict.lost == ("gone",)
    assert verdict.wrong == ()
    assert verdict.platforms[0].lost == 1


def test_a_pending_item_at_the_end_is_stuck() -> None:
    item = Item("slow", "tiktok", "video")
    verdict = check([item], [Final("slow", "pending", "publishing")], [], [])

    assert not verdict.valid
    assert verdict.stuck == (("slow", "publishing"),)
    assert verdict.lost == ()


@pytest.mark.parametrize(
    ("outcome", "copies", "reason"),
    [
        ("published", 0, PUBLISHED_NOT_VISIBLE),
        ("failed", 1, FAILED_BUT_VISIBLE),
        ("missing", 1, NO_RECORD_BUT_VISIBLE),
        (None, 1, NO_RECORD_BUT_VISIBLE),
    ],
)
def test_herald_contradicting_the_platform_is_wrong(
    outcome: Outcome | None, copies: int, reason: str
) -> None:
    verdict = _one(Item("odd", "facebook", "photo"), outcome, copies)

    assert not verdict.valid
    assert verdict.wrong == (("odd", reason, outcome or ""),)
    assert verdict.lost == ()
    assert verdict.platforms[0].wrong == 1


def test_a_side_effect_on_a_platform_the_item_was_not_sent_to_is_wrong() -> None:
    item = Item("m", "facebook", "text")
    shown = [Visible("m", "facebook", T0), Visible("m", "instagram", T0)]

    verdict = check([item], [Final("m", "published", "published")], shown, [])

    assert not verdict.valid
    assert verdict.wrong == (("m", "visible on instagram, sent to facebook", "published"),)
    assert verdict.foreign == 0


def test_a_facebook_duplicate_with_a_kill_inside_the_call_is_explained() -> None:
    kill = _kill("facebook", T0 + 0.4)

    verdict = _duplicated("facebook", [kill])

    assert verdict.valid
    assert verdict.duplicates[0].explained_by == kill
    assert verdict.duplicates[0].copies == 2
    assert verdict.kills_inside_calls == 1
    assert verdict.summary()["duplicated_facebook"] == 1


@pytest.mark.parametrize(
    "kill",
    [
        _kill("facebook", T0 + 30.0),  # long after the call: not inside it
        _kill("facebook", T0 - 0.1),  # before the call took effect
        _kill("instagram", T0 + 0.4),  # another publisher
        Fault("kafka_restart", "kafka", T0 + 0.4),  # not a kill
    ],
)
def test_a_facebook_duplicate_without_a_kill_inside_the_call_is_unexplained(kill: Fault) -> None:
    verdict = _duplicated("facebook", [kill])

    assert not verdict.valid
    assert verdict.duplicates[0].explained_by is None
    assert verdict.kills_inside_calls == 0


def test_a_kill_after_the_second_copy_did_not_cause_it() -> None:
    item = Item("k1", "facebook", "text")
    shown = [Visible("k1", "facebook", T0), Visible("k1", "facebook", T0 + 1.0)]

    verdict = check(
        [item], [Final("k1", "published", "published")], shown, [_kill("facebook", T0 + 2.0)]
    )

    assert not verdict.valid


def test_one_kill_cannot_explain_two_duplicates() -> None:
    items = [Item("a", "facebook", "text"), Item("b", "facebook", "photo")]
    finals = [Final("a", "published", "published"), Final("b", "published", "published")]
    shown = [
        Visible("a", "facebook", T0),
        Visible("b", "facebook", T0 + 1.0),
        Visible("a", "facebook", T0 + 20.0),
        Visible("b", "facebook", T0 + 21.0),
    ]
    kill = _kill("facebook", T0 + 2.0)

    one = check(items, finals, shown, [kill])
    two = check(items, finals, shown, [kill, _kill("facebook", T0 + 3.0)])

    assert not one.valid
    assert [d.explained_by for d in one.duplicates] == [kill, None]
    assert one.kills_inside_calls == 1
    assert two.valid
    assert two.kills_inside_calls == 2


def test_three_copies_need_a_kill_for_each_extra_copy() -> None:
    item = Item("k", "facebook", "text")
    shown = [Visible("k", "facebook", T0 + s) for s in (0.0, 10.0, 20.0)]
    finals = [Final("k", "published", "published")]
    first, second = _kill("facebook", T0 + 0.5), _kill("facebook", T0 + 10.5)

    short = check([item], finals, shown, [first])
    enough = check([item], finals, shown, [first, second])

    assert not short.valid
    assert short.duplicates[0].explained_by is None
    assert short.kills_inside_calls == 0
    assert enough.valid
    assert enough.duplicates[0].kills == (first, second)
    assert enough.duplicates[0].copies == 3


def test_an_instagram_duplicate_is_invalid_even_with_a_kill_inside_the_call() -> None:
    verdict = _duplicated("instagram", [_kill("instagram", T0 + 0.4)])

    assert not verdict.valid
    assert verdict.duplicates[0].explained_by is not None
    assert "instagram must never duplicate" in verdict.report()


def test_may_duplicate_widens_what_is_tolerated() -> None:
    item = Item("k1", "instagram", "photo")
    shown = [Visible("k1", "instagram", T0), Visible("k1", "instagram", T0 + 20.0)]
    finals = [Final("k1", "published", "published")]

    verdict = check(
        [item],
        finals,
        shown,
        [_kill("instagram", T0 + 0.4)],
        may_duplicate=frozenset({"facebook", "instagram"}),
    )

    assert verdict.valid


def test_foreign_side_effects_are_ignored_and_counted() -> None:
    shown = [
        *_shown(ITEMS),
        Visible("someone-else", "facebook", T0),
        Visible("someone-else", "facebook", T0 + 1),
        Visible("+15559999", "whatsapp", T0),
    ]

    verdict = check(ITEMS, _published(ITEMS), shown, [])

    assert verdict.valid
    assert verdict.foreign == 3
    assert verdict.duplicates == ()
    assert sum(t.visible for t in verdict.platforms) == len(ITEMS)


def test_whatsapp_recipients_count_per_number() -> None:
    numbers = ("+15550001", "+15550002", "+15550003")
    items = [Item(n, "whatsapp", "broadcast-recipient") for n in numbers]
    shown = [
        *(Visible(n, "whatsapp", T0) for n in numbers),
        Visible(numbers[1], "whatsapp", T0 + 9),
    ]

    verdict = check(items, [Final(n, "published", "sent") for n in numbers], shown, [])

    assert not verdict.valid
    totals = verdict.platforms[0]
    assert (totals.platform, totals.items, totals.published, totals.visible) == (
        "whatsapp",
        3,
        3,
        4,
    )
    assert totals.duplicated == 1
    assert [(d.key, d.copies) for d in verdict.duplicates] == [(numbers[1], 2)]
    assert verdict.summary()["duplicated_whatsapp"] == 1
    assert verdict.summary()["items"] == 3


def test_kinds_are_counted_per_platform() -> None:
    items = [
        Item("a", "facebook", "text"),
        Item("b", "facebook", "text"),
        Item("c", "facebook", "photo"),
        Item("d", "instagram", "carousel"),
    ]
    finals = [Final(i.key, "published", "published") for i in items[:3]]

    verdict = check(items, finals, [Visible(i.key, i.platform, T0) for i in items[:3]], [])

    assert [(t.platform, t.kind, t.items, t.lost) for t in verdict.kinds] == [
        ("facebook", "photo", 1, 0),
        ("facebook", "text", 2, 0),
        ("instagram", "carousel", 1, 1),
    ]


def test_the_report_names_every_problem() -> None:
    items = [
        Item("lost-1", "facebook", "text"),
        Item("stuck-1", "tiktok", "video"),
        Item("wrong-1", "instagram", "reel"),
        Item("dup-1", "facebook", "photo"),
    ]
    finals = [
        Final("stuck-1", "pending", "uploading"),
        Final("wrong-1", "published", "published"),
        Final("dup-1", "published", "published"),
    ]
    shown = [Visible("dup-1", "facebook", T0), Visible("dup-1", "facebook", T0 + 20)]

    report = check(items, finals, shown, [_kill("facebook", T0 + 30)]).report()

    assert report.startswith("valid? false\n")
    for key in ("lost-1", "stuck-1", "wrong-1", "dup-1"):
        assert key in report
    assert "still uploading" in report
    assert PUBLISHED_NOT_VISIBLE in report
    assert "unexplained" in report
    assert "kill 1" in report


def test_the_report_caps_each_category() -> None:
    items = [Item(f"gone-{n}", "facebook", "text") for n in range(REPORT_LIMIT + 5)]

    report = check(items, [], [], []).report()

    assert f"gone-{REPORT_LIMIT - 1}" in report
    assert f"gone-{REPORT_LIMIT}" not in report
    assert "... and 5 more" in report


def test_summary_has_the_same_keys_whatever_the_run() -> None:
    empty = check([], [], [], []).summary()
    busy = check(ITEMS, _published(ITEMS), _shown(ITEMS), [_kill("tiktok", T0)]).summary()

    assert (
        list(empty)
        == list(busy)
        == [
            "valid",
            "items",
            "lost",
            "stuck",
            "wrong",
            "duplicated",
            "duplicated_facebook",
            "duplicated_instagram",
            "duplicated_tiktok",
            "duplicated_whatsapp",
            "kills",
            "faults",
        ]
    )
    assert busy["valid"] is True
    assert busy["items"] == 4
    assert (busy["kills"], busy["faults"]) == (1, 1)


def test_ambiguous_histories_are_refused() -> None:
    item = Item("k", "facebook", "text")

    with pytest.raises(ValueError, match="two items share the key 'k'"):
        check([item, Item("k", "instagram", "photo")], [], [], [])
    with pytest.raises(ValueError, match="two finals share the key 'k'"):
        check([item], [Final("k", "published", "x"), Final("k", "failed", "y")], [], [])
