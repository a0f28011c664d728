"""The batch flow against a fake Cloud API: outcomes per recipient, deferrals, batch-level stops,
resuming without sending twice, media uploaded once, and the rules checked before sending."""

from __future__ import annotations

from typing import Any

import pytest

from herald.errors import NeedsReauth, Permanent, PlatformError, Throttled
from herald.graph import AmbiguousOutcome
from herald.runtime.ports import Checkpoint, Credentials, Published, Wait
from publisher_whatsapp.domain import SENDING
from publisher_whatsapp.handlers import FlowSettings, WhatsAppPublisher
from publisher_whatsapp.pace import Pacer
from publisher_whatsapp.settings import MediaSettings, SendSettings
from publisher_whatsapp.testing import (
    FakeCloudApi,
    FakeMedia,
    MemoryFlags,
    MemoryMessages,
    RecordingObserver,
    whatsapp_request,
)

pytestmark = pytest.mark.unit

PHONE = "106540352242922"
CREDENTIALS = Credentials("tok", PHONE, {"phone_number_id": PHONE})
HELLO = {"name": "hello_world", "language": "en_US"}
NOW = 1_800_000_000.0


def people(n: int) -> list[dict[str, Any]]:
    return [{"recipient_id": f"r{i}", "to": f"+1555000{i:04d}"} for i in range(n)]


def wa(i: int) -> str:
    return f"1555000{i:04d}"


def error(kind: type[PlatformError], code: str, **extra: Any) -> PlatformError:
    return kind(f"(#{code}) refused", code=code, remediation=f"fix {code}", **extra)


class Flow:
    """A publisher on fakes, and the checkpoint the ledger would keep between handlings."""

    def __init__(self, *, send: SendSettings | None = None, **flow: Any) -> None:
        self.api = FakeCloudApi()
        self.log = MemoryMessages()
        self.flags = MemoryFlags()
        self.media = FakeMedia()
        self.observer = RecordingObserver()
        self.now = NOW
        settings = FlowSettings(send=send or SendSettings(max_in_flight=1), **flow)
        self.publisher = WhatsAppPublisher(
            self.api,
            self.log,
            self.flags,
            self.media,
            Pacer(lambda _: 100_000.0),
            self.observer,
            settings,
            clock=lambda: self.now,
        )
        self.step: str | None = None
        self.data: dict[str, Any] = {}
        self.saves = 0
        self.begun = False

    async def _save(self, step: str, data: dict[str, Any]) -> None:
        self.step, self.data, self.saves = step, data, self.saves + 1

    async def run(self, request: Any) -> Any:
        """One handling, the first only the first time (as the ledger says)."""
        checkpoint = Checkpoint(self.step, self.data, self._save, first=not self.begun)
        self.begun = True
        return await self.publisher.publish(request, CREDENTIALS, checkpoint)


async def test_every_recipient_gets_one_message_and_its_outcome() -> None:
    flow = Flow(send=SendSettings(max_in_flight=8))
    request = whatsapp_request("t1", people(20), template=HELLO)

    outcome = await flow.run(request)

    assert isinstance(outcome, Published)
    assert [o.recipient_id for o in outcome.recipients] == [f"r{i}" for i in range(20)]
    assert {o.status for o in outcome.recipients} == {"accepted"}
    assert set(flow.api.sent_to().values()) == {1}
    assert {m.recipient_id for m in flow.log.stored.values()} == {f"r{i}" for i in range(20)}
    assert flow.log.numbers == {PHONE}
    assert flow.saves == 0  # every message accepted: the log holds all the progress there is
    assert flow.observer.messages[("accepted", "")] == 20


async def test_a_redelivery_after_a_crash_sends_only_to_the_rest() -> None:
    flow = Flow()
    request = whatsapp_request("t1", people(6), template=HELLO)

    def crash_on_fourth(to: str) -> None:
        if to == wa(3):
            raise RuntimeError("process killed")

    flow.api.on_send = crash_on_fourth
    with pytest.raises(ExceptionGroup):
        await flow.run(request)
    flow.api.on_send = None
    outcome = await flow.run(request)

    assert isinstance(outcome, Published)
    assert flow.api.sent_to() == {wa(i): 1 for i in range(6)}


async def test_a_message_accepted_but_not_yet_in_the_checkpoint_is_found_in_the_log() -> None:
    flow = Flow()
    request = whatsapp_request("t1", people(3), template=HELLO)
    await flow.run(request)
    flow.data = {}  # the checkpoint write was lost; the message log's writes were not

    outcome = await flow.run(request)

    assert isinstance(outcome, Published)
    assert flow.api.sent_to() == {wa(i): 1 for i in range(3)}


async def test_a_crash_before_the_log_write_repeats_at_most_the_sends_in_flight() -> None:
    flow = Flow(send=SendSettings(max_in_flight=1, log_retry_s=0))
    request = whatsapp_request("t1", people(5), template=HELLO)
    flow.log.broken = ConnectionError("mongo went away")

    with pytest.raises(ConnectionError):
        await flow.run(request)
    flow.log.broken = None
    await flow.run(request)

    duplicates = sum(n - 1 for n in flow.api.sent_to().values())
    assert set(flow.api.sent_to()) == {wa(i) for i in range(5)}
    assert duplicates <= 1


async def test_a_store_away_for_a_moment_is_waited_for_and_nothing_is_sent_twice() -> None:
    flow = Flow(send=SendSettings(max_in_flight=4))
    request = whatsapp_request("t1", people(6), template=HELLO)
    flow.log.failures = 3  # a FerretDB restart: the first writes after the sends fail

    outcome = await flow.run(request)
    again = await flow.run(request)  # a later handling (a replay) finds every message logged

    assert isinstance(outcome, Published)
    assert isinstance(again, Published)
    assert flow.api.sent_to() == {wa(i): 1 for i in range(6)}
    assert flow.log.failures == 0


async def test_a_store_away_longer_than_log_retry_s_fails_the_handling() -> None:
    flow = Flow(send=SendSettings(max_in_flight=1, log_retry_s=0.25))
    request = whatsapp_request("t1", people(2), template=HELLO)
    flow.log.broken = ConnectionError("mongo went away")

    with pytest.raises(ConnectionError):
        await flow.run(request)


async def test_the_pair_rate_defers_one_recipient_while_the_rest_go_out() -> None:
    flow = Flow(send=SendSettings(max_in_flight=1, pair_backoff_s=4.0))
    request = whatsapp_request("t1", people(3), template=HELLO)
    flow.api.script[wa(1)] = [error(Throttled, "131056")]

    first = await flow.run(request)
    flow.now += 4.0
    second = await flow.run(request)

    assert isinstance(first, Wait)
    assert first.delay_s == pytest.approx(4.0)
    assert first.step == SENDING
    assert isinstance(second, Published)
    assert flow.api.sent_to() == {wa(0): 1, wa(1): 1, wa(2): 1}
    assert flow.observer.throttles["131056"] == 1


async def test_the_pair_rate_backs_off_four_to_the_n_then_gives_up() -> None:
    flow = Flow(send=SendSettings(pair_backoff_s=4.0, pair_max_tries=3))
    request = whatsapp_request("t1", people(2), template=HELLO)
    flow.api.script[wa(0)] = [error(Throttled, "131056")] * 3

    waits = []
    outcome = await flow.run(request)
    while isinstance(outcome, Wait):
        waits.append(outcome.delay_s)
        flow.now += outcome.delay_s
        outcome = await flow.run(request)

    assert waits == [4.0, 16.0]
    assert isinstance(outcome, Published)
    failed = {o.recipient_id: o for o in outcome.recipients if o.status == "failed"}
    assert failed["r0"].error_code == "131056"


async def test_throughput_refusals_slow_the_number_and_are_sent_in_the_same_handling() -> None:
    flow = Flow(send=SendSettings(throttle_pause_s=0.01))
    request = whatsapp_request("t1", people(3), template=HELLO)
    flow.api.script[wa(2)] = [error(Throttled, "130429", retry_after_s=0.01)]

    outcome = await flow.run(request)

    assert isinstance(outcome, Published)
    assert flow.api.sent_to() == {wa(0): 1, wa(1): 1, wa(2): 1}
    assert flow.observer.throttles["130429"] == 1


async def test_throughput_refusals_beyond_the_rounds_wait_for_the_next_handling() -> None:
    flow = Flow(send=SendSettings(throttle_pause_s=0.01, throttle_rounds=2))
    request = whatsapp_request("t1", people(2), template=HELLO)
    flow.api.script[wa(1)] = [error(Throttled, "130429")] * 2

    outcome = await flow.run(request)

    assert isinstance(outcome, Wait)
    [pending] = flow.data["pending"]
    assert pending["recipient_id"] == "r1"
    assert pending["not_before"] == pytest.approx(NOW + 0.01)


async def test_a_failure_is_checkpointed_while_sends_go_on_since_the_log_cannot_hold_it() -> None:
    flow = Flow(send=SendSettings(max_in_flight=1))
    request = whatsapp_request("t1", people(10), template=HELLO)
    flow.api.script[wa(0)] = [error(Permanent, "131026")]
    seen_during_sends: list[list[str]] = []

    def spy(to: str) -> None:
        seen_during_sends.append([f["recipient_id"] for f in flow.data.get("failed", [])])

    flow.api.on_send = spy

    outcome = await flow.run(request)

    assert isinstance(outcome, Published)
    assert ["r0"] in seen_during_sends  # saved beside the log before the batch ended
    assert flow.saves == 1  # once: nothing new the log lacked came after it


async def test_undeliverable_and_opted_out_recipients_fail_and_their_contacts_are_flagged() -> None:
    flow = Flow()
    request = whatsapp_request("t1", people(4), template=HELLO)
    flow.api.script[wa(1)] = [error(Permanent, "131026")]
    flow.api.script[wa(2)] = [error(Permanent, "131050")]

    outcome = await flow.run(request)

    assert isinstance(outcome, Published)
    by_id = {o.recipient_id: o for o in outcome.recipients}
    assert (by_id["r1"].status, by_id["r1"].error_code) == ("failed", "131026")
    assert (by_id["r2"].status, by_id["r2"].error_code) == ("failed", "131050")
    assert by_id["r1"].remediation == "fix 131026"
    assert {f.reason: f.to for f in flow.flags.flags.values()} == {
        "undeliverable": "+15550000001",
        "opted_out": "+15550000002",
    }
    assert {f.source for f in flow.flags.flags.values()} == {"send"}
    assert flow.observer.messages[("failed", "131026")] == 1


async def test_a_free_form_message_outside_the_window_fails_with_send_a_template() -> None:
    flow = Flow()
    request = whatsapp_request("t1", people(1), text="Your order is ready")
    flow.api.every = Permanent(
        "(#131047) Re-engagement message",
        code="131047",
        remediation="More than 24 hours passed since the customer last wrote: send a template.",
    )

    with pytest.raises(Permanent) as raised:
        await flow.run(request)

    assert raised.value.code == "131047"
    assert "send a template" in (raised.value.remediation or "")
    [outcome] = raised.value.evidence["recipients"]
    assert outcome["status"] == "failed"


async def test_a_parameter_error_is_the_recipients_own_when_it_has_its_own_parameters() -> None:
    flow = Flow()
    body = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    recipients = [*people(2), {"recipient_id": "own", "to": "+15559990000", "components": body}]
    request = whatsapp_request("t1", recipients, template=HELLO)
    flow.api.script["15559990000"] = [error(Permanent, "132000")]

    outcome = await flow.run(request)

    assert isinstance(outcome, Published)
    statuses = {o.recipient_id: (o.status, o.error_code) for o in outcome.recipients}
    assert statuses == {
        "r0": ("accepted", None),
        "r1": ("accepted", None),
        "own": ("failed", "132000"),
    }


async def test_a_template_problem_stops_the_batch_and_nothing_sent_fails_the_post() -> None:
    flow = Flow()
    request = whatsapp_request("t1", people(5), template=HELLO)
    flow.api.every = error(Permanent, "132001")

    with pytest.raises(Permanent) as raised:
        await flow.run(request)

    assert raised.value.code == "132001"
    assert len(flow.api.bodies) == 1  # the first refusal stopped the batch


async def test_a_stop_after_some_messages_went_out_still_reports_them() -> None:
    flow = Flow()
    request = whatsapp_request("t1", people(4), template=HELLO)
    flow.api.script[wa(2)] = [error(Permanent, "132015")]

    outcome = await flow.run(request)

    assert isinstance(outcome, Published)
    statuses = {o.recipient_id: (o.status, o.error_code) for o in outcome.recipients}
    assert statuses == {
        "r0": ("accepted", None),
        "r1": ("accepted", None),
        "r2": ("failed", "132015"),
        "r3": ("failed", "132015"),
    }


@pytest.mark.parametrize("kind", [NeedsReauth, Throttled])
async def test_account_problems_go_to_the_runtime_with_progress_kept(
    kind: type[PlatformError],
) -> None:
    flow = Flow()
    request = whatsapp_request("t1", people(3), template=HELLO)
    flow.api.script[wa(1)] = [error(kind, "190" if kind is NeedsReauth else "80007")]

    with pytest.raises(kind):
        await flow.run(request)
    kept = [s["recipient_id"] for s in flow.data["sent"]]
    outcome = await flow.run(request)

    assert kept == ["r0"]
    assert isinstance(outcome, Published)
    assert flow.api.sent_to() == {wa(0): 1, wa(1): 1, wa(2): 1}


async def test_an_ambiguous_send_is_retried_later_then_given_up() -> None:
    flow = Flow(send=SendSettings(retry_backoff_s=[5.0, 50.0], max_tries=3))
    request = whatsapp_request("t1", people(2), template=HELLO)
    flow.api.script[wa(0)] = [AmbiguousOutcome("timed out", code=None)] * 3

    waits = []
    outcome = await flow.run(request)
    while isinstance(outcome, Wait):
        waits.append(outcome.delay_s)
        flow.now += outcome.delay_s
        outcome = await flow.run(request)

    assert waits == [5.0, 50.0]
    assert isinstance(outcome, Published)
    assert [(o.recipient_id, o.status) for o in outcome.recipients] == [
        ("r0", "failed"),
        ("r1", "accepted"),
    ]
    assert flow.observer.messages[("retried", "")] == 2


async def test_private_media_are_uploaded_once_for_the_whole_batch() -> None:
    media = MediaSettings(upload="auto", private_origins=["https://private.example"])
    flow = Flow(media=media)
    header = {
        "type": "header",
        "parameters": [{"type": "image", "link": "https://private.example/h.jpg"}],
    }
    template = {"name": "promo", "language": "en_US", "components": [header]}
    request = whatsapp_request("t1", people(3), template=template)

    await flow.run(request)
    flow.data["sent"] = []  # even a resumed batch finds the media id in its checkpoint
    await flow.run(request)

    assert flow.media.reads == ["https://private.example/h.jpg"]
    assert len(flow.api.uploads) == 1
    images = {
        b["template"]["components"][0]["parameters"][0]["image"]["id"] for b in flow.api.bodies
    }
    assert images == {"media.1"}


async def test_public_media_go_by_link() -> None:
    flow = Flow(media=MediaSettings(upload="auto", private_origins=["https://private.example"]))
    media = [{"kind": "image", "url": "https://cdn.example/a.jpg"}]

    await flow.run(whatsapp_request("t1", people(1), text="Rye", media=media))

    assert flow.api.uploads == []
    assert flow.api.bodies[0]["image"] == {"link": "https://cdn.example/a.jpg", "caption": "Rye"}


def test_validate_refuses_what_the_cloud_api_cannot_carry() -> None:
    flow = Flow(send=SendSettings(max_recipients=2))
    template = {
        "name": "promo",
        "language": "en_US",
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "currency", "text": "$1"}, {"type": "date_time"}],
            },
            {
                "type": "button",
                "sub_type": "copy_code",
                "index": 0,
                "parameters": [{"type": "text", "text": "X"}],
            },
        ],
    }

    found = flow.publisher.validate(whatsapp_request("t1", people(3), template=template))

    assert {(v.path, v.code) for v in found} >= {
        ("options.recipients", "too_many"),
        ("options.template.components[0].parameters[0].type", "not_allowed"),
        ("options.template.components[0].parameters[1].text", "required"),
        ("options.template.components[1].sub_type", "not_allowed"),
    }


def test_validate_uses_the_shared_rules_too() -> None:
    flow = Flow()

    found = flow.publisher.validate(whatsapp_request("t1", people(2), text="hi"))

    assert [(v.path, v.code) for v in found] == [("options.template", "required")]


async def test_the_checkpoint_never_uses_recipient_ids_or_urls_as_keys() -> None:
    """MongoDB refuses keys with dots and FerretDB nested arrays: ids and URLs are values."""
    flow = Flow(media=MediaSettings(upload="always"))
    recipients = [{"recipient_id": "contact.1$x", "to": "+15550009999"}, *people(1)]
    media = [{"kind": "image", "url": "https://cdn.example/a.b.jpg", "mime_type": "image/jpeg"}]
    flow.api.script["15550009999"] = [error(Throttled, "131056")]

    outcome = await flow.run(whatsapp_request("t1", recipients[:1], text="x", media=media))

    def keys(value: Any) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            assert not any(isinstance(v, list) for v in value)
            return {k for v in value for k in keys(v)}
        return set()

    assert isinstance(outcome, Wait)
    assert [p["recipient_id"] for p in flow.data["pending"]] == ["contact.1$x"]
    assert flow.data["media"] == [{"url": "https://cdn.example/a.b.jpg", "id": "media.1"}]
    assert all("." not in k and "$" not in k for k in keys(flow.data))


async def test_a_first_handling_sends_at_once_and_a_redelivery_reads_the_log() -> None:
    """The first handling writes no checkpoint before sending (nothing of the batch can be in the
    log yet); if it dies before any checkpoint lands, the next handling is not the first, so it
    reads the log and sends only to the rest."""
    flow = Flow(send=SendSettings(max_in_flight=1))
    request = whatsapp_request("t1", people(6), template=HELLO)
    order: list[str] = []
    record = flow.log.record

    async def lost_save(step: str, data: dict[str, Any]) -> None:
        order.append("checkpoint")  # never lands: the process dies first

    async def logged(messages: Any) -> None:
        order.append("log")
        await record(messages)

    def crash_on_fourth(to: str) -> None:
        if to == wa(3):
            raise RuntimeError("process killed")

    flow.log.record = logged  # type: ignore[method-assign]  # a spy on the fake's write
    flow.api.on_send = crash_on_fourth
    with pytest.raises(ExceptionGroup):
        await flow.publisher.publish(
            request, CREDENTIALS, Checkpoint(None, {}, lost_save, first=True)
        )
    flow.api.on_send = None
    assert order[0] == "log"

    outcome = await flow.publisher.publish(request, CREDENTIALS, Checkpoint(None, {}, flow._save))

    assert isinstance(outcome, Published)
    assert flow.api.sent_to() == {wa(i): 1 for i in range(6)}
