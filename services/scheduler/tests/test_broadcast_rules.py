"""Broadcast rules without infrastructure: placeholders checked and filled per contact,
contacts split into batches of at most N (each once, excluded and skipped ones named), and a
recipient's furthest state whatever order its facts arrive in."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from herald.content import PostContent, TemplateComponent, WhatsAppTemplate
from herald.errors import ErrorCategory
from herald.events import FailureDetail
from herald.topics import Platform
from scheduler.broadcast import batch_options, plan_broadcast
from scheduler.contacts import Contact
from scheduler.deliveries import (
    OUTCOME,
    STATUS,
    Fact,
    Recipient,
    RecipientState,
    count,
    mask,
    parent_of,
    view,
)
from scheduler.models import Target, TargetState
from scheduler.personalize import check_placeholders, render, split_template

pytestmark = pytest.mark.unit

T0 = datetime(2031, 1, 1, tzinfo=UTC)
CONTENT = PostContent()


def template(*body: str, header: str | None = None, payload: str | None = None) -> WhatsAppTemplate:
    components: list[dict[str, Any]] = [
        {"type": "body", "parameters": [{"type": "text", "text": t} for t in body]}
    ]
    if header is not None:
        components.append({"type": "header", "parameters": [{"type": "text", "text": header}]})
    if payload is not None:
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": 0,
                "parameters": [{"type": "payload", "payload": payload}],
            }
        )
    return WhatsAppTemplate.model_validate(
        {"name": "order_update", "language": "en_US", "components": components}
    )


def contact(n: int, name: str | None = None) -> Contact:
    return Contact(
        id=f"ct_{n:04d}",
        audience_id="au_1",
        business_id="b1",
        phone=f"+3519{n:08d}",
        name=name or f"Ana{n} Lima",
        opted_in=True,
        source="import",
        created_at=T0,
        fields={"city": f"City{n}"},
    )


def test_placeholders_are_checked_against_the_audience_fields() -> None:
    good = template("{{contact.first_name}}", "{{ contact.city | home }}")
    assert check_placeholders(good, {"first_name", "city"}, "targets[0].options.template") == []
    bad = template("{{contact.shoe}}", "{{contact.}}", "{{contact.city")
    found = check_placeholders(bad, {"city"}, "targets[0].options.template")
    assert {(v.path, v.code) for v in found} == {
        ("targets[0].options.template.components[0].parameters[0].text", "unknown_field"),
        ("targets[0].options.template.components[0].parameters[1].text", "invalid_format"),
        ("targets[0].options.template.components[0].parameters[2].text", "invalid_format"),
    }
    direct = check_placeholders(good, None, "targets[1].options.template")
    assert {v.code for v in direct} == {"not_allowed"}


def test_each_contact_gets_its_own_parameters_and_shared_components_stay_shared() -> None:
    tpl = template("Hi {{contact.first_name|there}}, from {{contact.city}}", payload="STOP")
    shared, personal = split_template(tpl)
    assert [c.type for c in shared.components] == ["button"]
    [body] = render(personal, {"first_name": "Ana", "city": "Porto"})
    assert body.parameters[0].text == "Hi Ana, from Porto"
    [fallback] = render(personal, {"city": "Porto"})
    assert fallback.parameters[0].text == "Hi there, from Porto"


def test_batches_hold_at_most_n_each_sendable_contact_once() -> None:
    contacts = [contact(n) for n in range(1, 251)]
    contacts[10] = replace(contacts[10], opted_in=False)
    flags = {contacts[20].phone: {"opted_out"}, contacts[30].phone: {"undeliverable"}}
    contacts[40] = replace(contacts[40], name=None)  # first_name has no fallback: skipped
    tpl = template("Hi {{contact.first_name}} of {{contact.city}}")
    plan = plan_broadcast(
        contacts, flags, {"ct_0050"}, template=tpl, content=CONTENT, batch_size=100
    )
    sizes = [len(b) for b in plan.batches]
    assert sizes == [100, 100, 45]
    ids = [p.recipient_id for b in plan.batches for p in b]
    assert len(ids) == len(set(ids)) == 245
    assert {"ct_0011", "ct_0021", "ct_0031", "ct_0041", "ct_0050"}.isdisjoint(ids)
    assert dict(plan.excluded) == {"not_opted_in": 1, "opted_out": 1, "undeliverable": 1}
    [skipped] = plan.skipped
    assert (skipped.recipient_id, skipped.error and skipped.error["code"]) == (
        "ct_0041",
        "missing_field",
    )
    first = plan.batches[0][0]
    assert first.components is not None
    assert first.components[0]["parameters"][0]["text"] == "Hi Ana1 of City1"


@pytest.mark.parametrize(
    ("total", "size", "expected"),
    [(0, 100, []), (1, 1, [1]), (100, 100, [100]), (101, 100, [100, 1]), (7, 3, [3, 3, 1])],
)
def test_batch_boundaries(total: int, size: int, expected: list[int]) -> None:
    contacts = [contact(n) for n in range(total)]
    plan = plan_broadcast(
        contacts, {}, set(), template=template("Hello"), content=CONTENT, batch_size=size
    )
    assert [len(b) for b in plan.batches] == expected
    assert all(p.components is None for b in plan.batches for p in b)


def test_a_contact_whose_parameter_breaks_the_limits_is_skipped_with_the_reason() -> None:
    long_name = "X" * 80  # a header text parameter is at most 60 characters
    contacts = [contact(1), contact(2, name=long_name)]
    tpl = template("Hello", header="{{contact.name}}")
    plan = plan_broadcast(contacts, {}, set(), template=tpl, content=CONTENT, batch_size=10)
    assert [p.recipient_id for b in plan.batches for p in b] == ["ct_0001"]
    [skipped] = plan.skipped
    assert skipped.error is not None
    assert skipped.error["code"] == "too_long"
    options = batch_options({"preview_url": False}, split_template(tpl)[0], plan.batches[0])
    assert options["audience_id"] is None
    assert options["template"]["components"] == [
        TemplateComponent.model_validate(
            {"type": "body", "parameters": [{"type": "text", "text": "Hello"}]}
        ).model_dump(mode="json")
    ]
    assert options["recipients"][0]["components"][0]["parameters"][0]["text"] == "Ana1 Lima"


def fact(kind: str, status: str, minute: int, **extra: Any) -> Fact:
    return Fact("t/ct_1", kind, status, T0 + timedelta(minutes=minute), **extra)


RECIPIENT = Recipient(
    parent_target_id="t",
    recipient_id="ct_1",
    post_id="p",
    business_id="b1",
    target_id="t",
    contact_id="ct_1",
    to="+351912345678",
    batch=None,
    state="queued",
    created_at=T0,
)


def batch(state: TargetState, last_error: FailureDetail | None = None) -> Target:
    return Target(
        id="t",
        post_id="p",
        business_id="b1",
        index=0,
        integration_id="wa-1",
        platform=Platform.WHATSAPP,
        due_at=T0,
        epoch=1,
        epoch_started_at=T0,
        state=state,
        updated_at=T0,
        last_error=last_error,
    )


@pytest.mark.parametrize(
    ("facts", "state"),
    [
        ([fact(OUTCOME, "accepted", 0, message_id="w1")], RecipientState.ACCEPTED),
        ([fact(STATUS, "sent", 1), fact(STATUS, "delivered", 2)], RecipientState.DELIVERED),
        ([fact(STATUS, "read", 3), fact(STATUS, "sent", 1)], RecipientState.READ),
        ([fact(STATUS, "sent", 1), fact(STATUS, "failed", 2)], RecipientState.FAILED),
        ([fact(STATUS, "failed", 2), fact(STATUS, "delivered", 3)], RecipientState.DELIVERED),
        (
            [fact(OUTCOME, "failed", 0, epoch=1), fact(OUTCOME, "accepted", 5, epoch=2)],
            RecipientState.ACCEPTED,
        ),
        ([fact(OUTCOME, "skipped", 0)], RecipientState.SKIPPED),
    ],
)
def test_the_furthest_fact_decides_in_any_order(facts: list[Fact], state: RecipientState) -> None:
    for order in itertools.permutations(facts):
        assert view(RECIPIENT, list(order) * 2, None).state is state  # duplicated too


def test_without_facts_the_batch_decides_and_errors_carry_codes() -> None:
    expired = FailureDetail(
        category=ErrorCategory.NEEDS_REAUTH, code="integration_expired", message="m"
    )
    shown = view(RECIPIENT, [], batch(TargetState.FAILED, expired))
    assert (shown.state, shown.error_code) == (RecipientState.FAILED, "integration_expired")
    assert view(RECIPIENT, [], batch(TargetState.DISPATCHED)).state is RecipientState.PENDING
    assert view(RECIPIENT, [], batch(TargetState.CANCELLED)).state is RecipientState.CANCELLED
    error = {"code": "missing_field", "message": "m"}
    skipped = replace(RECIPIENT, state="skipped", error=error)
    assert view(skipped, [], None).error_code == "missing_field"
    error = {"code": "131026", "message": "Message undeliverable"}
    failure = view(
        RECIPIENT,
        [fact(OUTCOME, "accepted", 0, message_id="w1"), fact(STATUS, "failed", 1, error=error)],
        None,
    )
    assert (failure.state, failure.message_id, failure.error_code) == (
        RecipientState.FAILED,
        "w1",
        "131026",
    )


def test_counts_are_cumulative_for_sent_delivered_read() -> None:
    states = [RecipientState.READ] * 2 + [RecipientState.DELIVERED] * 3 + [RecipientState.SENT]
    counts = count([*states, RecipientState.FAILED, RecipientState.PENDING])
    assert (counts.recipients, counts.sent, counts.delivered, counts.read, counts.failed) == (
        8,
        6,
        5,
        2,
        1,
    )
    assert sum(counts.by_state.values()) == 8
    assert mask("+351912345678") == "+351*****5678"
    assert parent_of("p_1-0.17") == "p_1-0"
    assert parent_of("p_1-2") == "p_1-2"
