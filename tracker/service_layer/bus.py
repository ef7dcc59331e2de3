"""The message bus: runs a command's handler in one transaction, then the events it raised."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tracker.adapters.database import UnitOfWork
from tracker.domain import commands
from tracker.domain.alerts import AlertPolicy

from .alert_handlers import assess_touched_orders
from .handlers import COMMAND_HANDLERS, EVENT_HANDLERS

log = logging.getLogger(__name__)

_MACHINE_COMMANDS = (
    commands.StartJob,
    commands.EndJob,
    commands.RecordCycle,
    commands.SetMachineState,
    commands.RecordAlarm,
)


class MessageBus:
    """Commands in; domain events handled inside the same transaction (alerts go to an outbox)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        on_alert: Callable[[], None] = lambda: None,
        policy: AlertPolicy | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._on_alert = on_alert
        self.policy = policy or AlertPolicy()

    def handle(self, cmd: commands.Command) -> bool:
        """Apply `cmd`; False when it was a redelivered machine event and changed nothing."""
        now = self._clock()
        with UnitOfWork(self._sessions, self.policy) as uow:
            if isinstance(cmd, _MACHINE_COMMANDS) and not uow.first_time(
                cmd.machine_id, cmd.event_id, now
            ):
                log.info("event %s from %s already applied; ignored", cmd.event_id, cmd.machine_id)
                return False
            COMMAND_HANDLERS[type(cmd)](cmd, uow, now)
            # every order the command touched gets its schedule status assessed, once
            assess_touched_orders(uow, now)
            for order in uow.seen:
                while order.events:
                    event = order.events.pop(0)
                    for handler in EVENT_HANDLERS.get(type(event), []):
                        handler(event, uow, now)
            uow.commit()
            delivered = uow.deliveries_added
        if delivered:
            self._on_alert()
        return True
