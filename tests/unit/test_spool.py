"""The on-disk spool: ordered, bounded, durable across restarts (a temp directory, no services)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.spool import Spool, SpoolFull


def test_batches_come_back_oldest_first_and_leave_when_removed(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10_000)
    spool.append(["a 1", "b 2"])
    spool.append(["c 3"])
    first = spool.oldest()
    assert first is not None and first[1] == ["a 1", "b 2"]
    spool.remove(first[0])
    second = spool.oldest()
    assert second is not None and second[1] == ["c 3"]
    spool.remove(second[0])
    assert spool.oldest() is None and len(spool) == 0 and spool.bytes == 0
    assert list(tmp_path.iterdir()) == []


def test_a_full_spool_refuses_instead_of_dropping(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=20)
    spool.append(["x" * 10])
    with pytest.raises(SpoolFull):
        spool.append(["y" * 10])
    assert len(spool) == 1
    oldest = spool.oldest()
    assert oldest is not None
    spool.remove(oldest[0])
    spool.append(["y" * 10])  # room again once the store took the first batch
    assert len(spool) == 1


def test_spooled_batches_survive_a_restart_in_order(tmp_path: Path) -> None:
    before = Spool(tmp_path, max_bytes=10_000)
    for i in range(12):
        before.append([f"m v={i} {i}"])
    (tmp_path / "0000000000000099.tmp").write_text("half-written, never acknowledged")
    after = Spool(tmp_path, max_bytes=10_000)
    assert len(after) == 12 and after.bytes == before.bytes
    replayed = []
    while (oldest := after.oldest()) is not None:
        replayed += oldest[1]
        after.remove(oldest[0])
    assert replayed == [f"m v={i} {i}" for i in range(12)]
    after.append(["next 1"])
    assert not list(tmp_path.glob("*.tmp"))


def test_removing_an_unknown_batch_changes_nothing(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10_000)
    spool.append(["a 1"])
    spool.remove(12345)
    assert len(spool) == 1
