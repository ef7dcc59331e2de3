"""A validated order request becomes a CreateOrder: its own routing, or its product's template."""

from __future__ import annotations

from tracker.domain import commands
from tracker.domain.routing import Plant, RoutingError, expand

from .request_models import OperationCreate, OrderCreate, QuoteRequest

# the order's product column holds the product and its resolved options: `bracket [paint=wet]`
_PRODUCT_MAX = 200
# work content an order may hold: beyond it no shop means it, and ETAs leave the calendar
MAX_WORK_S = 10 * 365 * 86400.0


def _bounded(
    quantity: int, operations: tuple[commands.OperationSpec, ...]
) -> tuple[commands.OperationSpec, ...]:
    work = sum(op.setup_s + op.cycle_s * quantity for op in operations)
    if work > MAX_WORK_S:
        raise RoutingError(
            [
                (
                    "quantity",
                    f"{work / 86400:.0f} days of work: more than the 10 years an order may hold",
                )
            ]
        )
    return operations


def routing_of(
    body: OrderCreate | QuoteRequest, plant: Plant
) -> tuple[str, tuple[commands.OperationSpec, ...]]:
    """The product label and operations a request asks for: its own routing, or its product's
    template with the options; raise RoutingError naming the field when it cannot be had."""
    explicit: list[OperationCreate] | None = body.operations
    if explicit is not None:
        if body.options is not None:
            raise RoutingError(
                [("options", "give either operations (an explicit routing) or options, not both")]
            )
        return body.product, _bounded(
            body.quantity,
            tuple(
                commands.OperationSpec(o.seq, o.name, o.machine, o.setup_s, o.cycle_s)
                for o in explicit
            ),
        )
    routing = expand(plant, body.product, body.options or {}, body.quantity)
    if len(routing.label) > _PRODUCT_MAX:
        raise RoutingError([("options", f"product and options exceed {_PRODUCT_MAX} chars")])
    return routing.label, _bounded(body.quantity, routing.operations)


def to_command(body: OrderCreate, plant: Plant, token_hash: str) -> commands.CreateOrder:
    """Raise RoutingError naming the field when the routing cannot be had."""
    product, operations = routing_of(body, plant)
    return commands.CreateOrder(
        order_id=body.order_id,
        customer=body.customer,
        product=product,
        quantity=body.quantity,
        due_at=body.due_at,
        priority=body.priority,
        token_hash=token_hash,
        operations=operations,
    )
