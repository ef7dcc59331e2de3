"""`shopfloor demo`: broker, gateway, tracker and simulator in one process on embedded defaults."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from .broker import EmbeddedBroker
from .mqtt import MqttSettings, parse_broker_url

log = logging.getLogger(__name__)

# (order, due in minutes, quantity, [(seq, name, machine, setup_s, cycle_s)])
DEMO_ORDERS = [
    ("SO-1001", 60, 20, [(10, "cut", "saw-1", 2, 1.5), (20, "weld", "weld-1", 3, 2.0)]),
    ("SO-1002", 1, 30, [(10, "cut", "saw-1", 2, 1.5), (20, "weld", "weld-1", 3, 2.5)]),
]


def run_demo(args: argparse.Namespace) -> int:
    import uvicorn

    from device_sim.machine import Job
    from device_sim.runner import Simulation, run
    from gateway.service import Gateway
    from gateway.settings import GatewaySettings, InfluxSettings
    from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate
    from tracker.adapters.migrations import upgrade
    from tracker.bootstrap import Tracker
    from tracker.domain import commands
    from tracker.entrypoints.api import create_app
    from tracker.entrypoints.http_server import Server
    from tracker.settings import TrackerSettings
    from tracker.tokens import hash_token, new_token

    data = Path(args.data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    broker = None
    if args.broker:
        host, port = parse_broker_url(args.broker)
    else:
        broker = EmbeddedBroker(args.mqtt_port)
        broker.start()
        host, port = broker.host, broker.port
    # the embedded broker speaks MQTT 3.1.1 only
    protocol: Literal["5", "3.1.1"] = "3.1.1" if broker else "5"
    api_key = os.environ.get("SHOPFLOOR_API_KEY") or secrets.token_urlsafe(24)

    gw = Gateway(
        GatewaySettings(
            mqtt=MqttSettings(host=host, port=port, protocol=protocol, client_id="demo-gateway"),
            influx=InfluxSettings(sink="sqlite", sqlite_path=data / "telemetry.db"),
            spool_dir=data / "spool",
        )
    )
    database_url = f"sqlite:///{data / 'shopfloor.db'}"
    upgrade(database_url)  # the demo owns its database: migrate it, as `shopfloor migrate` does
    tracker = Tracker(
        TrackerSettings(
            database_url=database_url,
            api_key=SecretStr(api_key),
            check_interval_s=5,
            # demo orders take minutes: an hour of slack would put every one of them at risk
            at_risk_slack_s=300,
            api_port=args.port,
            mqtt=MqttSettings(host=host, port=port, protocol=protocol, client_id="demo-tracker"),
        )
    )
    now = datetime.now(UTC)
    stamp = now.strftime("%H%M%S")
    links, jobs = [], []
    for order_id, due_min, qty, ops in DEMO_ORDERS:
        token = new_token()
        oid = f"{order_id}-{stamp}"
        tracker.bus.handle(
            commands.CreateOrder(
                order_id=oid,
                customer="Demo customer",
                product="bracket",
                quantity=qty,
                due_at=now + timedelta(minutes=due_min),
                token_hash=hash_token(token),
                operations=tuple(commands.OperationSpec(*op) for op in ops),
            )
        )
        links.append(f"http://127.0.0.1:{args.port}/api/v1/orders/{oid}/progress?token={token}")
        jobs += [Job(oid, seq, machine, qty, cycle, setup) for seq, _, machine, setup, cycle in ops]

    gw.start()
    stop = threading.Event()
    sim = Simulation([], jobs, seed=1, speed=1.0)
    sim_thread = threading.Thread(
        target=run,
        args=(
            sim,
            MqttSettings(host=host, port=port, protocol=protocol),
            TopicTemplate(DEFAULT_TEMPLATE),
        ),
        kwargs={"stop": stop},
        daemon=True,
    )
    sim_thread.start()

    print(f"shopfloor demo running (data in {data})")  # noqa: T201
    print(f"  API docs:        http://127.0.0.1:{args.port}/docs")  # noqa: T201
    print(f"  board:           http://127.0.0.1:{args.port}/board")  # noqa: T201
    print(f"  supervisor key:  {api_key}  (header X-API-Key)")  # noqa: T201
    for link in links:
        print(f"  customer link:   {link}")  # noqa: T201
        page = link.replace("/api/v1/orders/", "/track/").replace("/progress?", "?")
        print(f"  customer page:   {page}")  # noqa: T201
    print(f"  MQTT broker:     mqtt://{host}:{port}   Ctrl-C stops everything")  # noqa: T201

    server = Server(
        uvicorn.Config(create_app(tracker), host="127.0.0.1", port=args.port, log_config=None),
        tracker.changes,
    )
    if args.duration:
        threading.Timer(args.duration, lambda: setattr(server, "should_exit", True)).start()
    try:
        server.run()
    finally:
        stop.set()
        sim_thread.join(timeout=10)
        gw.stop()
        if broker:
            broker.stop()
    return 0
