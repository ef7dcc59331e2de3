"""The load mode's pure parts: pacing, payloads on the contract, summary, options."""

from __future__ import annotations

import argparse
import json

import pytest

from device_sim.load import add_arguments, main
from device_sim.load_plan import (
    LoadPlan,
    LoadSummary,
    Readings,
    TokenBucket,
    machine_kinds,
    percentile,
)
from device_sim.models import MODELS, RUNNING
from shopfloor.contract.payloads import parse_telemetry
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate


def test_pacer_spreads_a_second_over_its_ticks_instead_of_one_burst() -> None:
    bucket = TokenBucket(rate=1000.0, burst=50.0, start=0.0)
    per_tick = [bucket.take(tick / 1000, most=10_000) for tick in range(1, 1001)]
    assert sum(per_tick) in (999, 1000)
    assert max(per_tick) <= 2
    assert bucket.missed == 0


def test_pacer_saves_up_only_its_burst_and_counts_the_rest_as_missed() -> None:
    bucket = TokenBucket(rate=100.0, burst=5.0, start=0.0)
    assert bucket.take(0.0, most=100) == 0
    assert bucket.take(1.0, most=100) == 5
    assert bucket.missed == pytest.approx(95.0)


def test_pacer_keeps_tokens_it_could_not_spend() -> None:
    bucket = TokenBucket(rate=100.0, burst=10.0, start=0.0)
    assert bucket.take(0.05, most=2) == 2
    assert bucket.take(0.05, most=100) == 3


def test_pacer_says_how_long_until_the_next_message() -> None:
    bucket = TokenBucket(rate=100.0, burst=10.0, start=0.0)
    assert bucket.wait() == pytest.approx(0.01)
    bucket.take(0.005, most=10)
    assert bucket.wait() == pytest.approx(0.005)


def test_machines_take_the_kinds_in_turn() -> None:
    machines = machine_kinds(len(MODELS) + 1)
    assert machines[0] == ("load-cnc_mill-001", "cnc_mill")
    assert [kind for _, kind in machines[: len(MODELS)]] == list(MODELS)
    assert machines[-1] == (f"load-cnc_mill-{len(MODELS) + 1:03d}", "cnc_mill")


def test_every_payload_follows_the_contract_on_its_machines_topic() -> None:
    readings = Readings(LoadPlan(machines=8, site="s1", line="l2"))
    template = TopicTemplate(DEFAULT_TEMPLATE)
    kinds = dict(machine_kinds(8))
    for i in range(8 * 70):
        topic, payload = readings.next(1_700_000_000_000)
        tags = template.match(topic)
        assert tags is not None
        assert tags == {
            "site": "s1",
            "line": "l2",
            "machine": tags["machine"],
            "kind": "telemetry",
        }
        assert tags["machine"] == machine_kinds(8)[i % 8][0]
        (reading,) = parse_telemetry(payload)
        assert reading.ts is not None
        channels = MODELS[kinds[tags["machine"]]].channels
        assert set(reading.values) == {c.name for c in channels}
        # written as floats, so InfluxDB never sees an integer field
        assert all(isinstance(v, float) for v in json.loads(payload)["values"].values())


def test_values_are_running_targets_plus_noise() -> None:
    readings = Readings(LoadPlan(machines=1, seed=7))
    samples = [parse_telemetry(readings.next(0)[1])[0].values for _ in range(64)]
    for channel in MODELS["cnc_mill"].channels:
        values = [s[channel.name] for s in samples]
        mean = sum(values) / len(values)
        assert mean == pytest.approx(channel.target(RUNNING), abs=max(1e-9, 2 * channel.noise))
        assert len(set(values)) > 1 or channel.noise == 0


def test_a_machines_timestamps_grow_even_within_one_millisecond() -> None:
    readings = Readings(LoadPlan(machines=2))
    stamps = [json.loads(readings.next(1000)[1])["ts"] for _ in range(6)]
    assert stamps[0::2] == [1000, 1001, 1002]
    assert stamps[1::2] == [1000, 1001, 1002]


def test_the_seed_makes_the_same_payloads() -> None:
    a, b = Readings(LoadPlan(seed=3)), Readings(LoadPlan(seed=3))
    assert [a.next(5) for _ in range(30)] == [b.next(5) for _ in range(30)]


def test_a_custom_template_names_the_topics() -> None:
    plan = LoadPlan(machines=1, template="factory/{site}/{machine}/telemetry", site="x")
    assert Readings(plan).next(0)[0] == "factory/x/load-cnc_mill-001/telemetry"


def test_a_template_of_one_value_per_topic_is_refused() -> None:
    with pytest.raises(ValueError, match="one value per topic"):
        Readings(LoadPlan(template="plant/{machine}/{field}"))


def test_percentile_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) is None


def _summary(**changes: float) -> LoadSummary:
    fields: dict[str, float] = {
        "machines": 10,
        "qos": 1,
        "target_rate": 1000.0,
        "published": 10_000,
        "acknowledged": 9_990,
        "refused": 3,
        "nacked": 2,
        "unacknowledged": 8,
        "duration_s": 10.0,
        "drain_s": 0.1,
        "values_per_reading": 5.0,
        "window": 100,
        "window_full_s": 0.0,
        "cpu_s": 2.0,
        "generate_s": 0.1,
    }
    fields.update(changes)
    return LoadSummary(**fields)  # type: ignore[arg-type]


def test_summary_counts_every_kind_of_failure() -> None:
    assert _summary().failed == 13


def test_summary_tells_a_missed_target_and_what_held_it_back() -> None:
    assert _summary().rate_reached
    slow = _summary(published=5_000)
    assert not slow.rate_reached
    assert "broker" in slow.limit
    assert "client" in _summary(published=5_000, cpu_s=9.5).limit


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_options_default_to_ten_machines_at_ten_readings_a_second_at_qos_1() -> None:
    args = _parse()
    assert (args.machines, args.rate, args.qos, args.duration, args.messages) == (
        10,
        10.0,
        1,
        None,
        None,
    )


def test_duration_and_message_count_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        _parse("--duration", "1", "--messages", "5")


@pytest.mark.parametrize(
    "argv",
    [("--machines", "0"), ("--rate", "0"), ("--broker", "http://x"), ("--topic-template", "a/b")],
)
def test_a_bad_option_is_refused_before_connecting(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_parse(*argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("shopfloor sim load: ") and err.count("\n") == 1
