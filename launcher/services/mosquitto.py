"""Mosquitto brokers: anonymous, with TLS, with accounts and ACLs, or restartable."""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .processes import HOST, executable, free_port, retrying, server, tcp_open
from .restartable import Restartable, first_start

ANONYMOUS = "allow_anonymous true\n"
QUEUED = 100_000  # messages queued per offline session; 0: no limit


@dataclass(frozen=True)
class Mosquitto:
    """A running Mosquitto broker (anonymous; no persistence unless a restartable one asks)."""

    host: str
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """The broker as an `mqtt://host:port` URL."""
        return f"mqtt://{self.host}:{self.port}"


def run_mosquitto(
    workdir: Path, security: str = ANONYMOUS, *, max_queued: int = QUEUED
) -> contextlib.AbstractContextManager[Mosquitto]:
    """Start Mosquitto on a free port with its config and log in `workdir`; stop it on exit.

    `security` is the config's authentication part: anonymous by default, or e.g.
    `allow_anonymous false`, a `password_file` and an `acl_file`. `max_queued` 0 lets an
    offline session queue without limit (a benchmark's backlog of a million messages).
    """
    return retrying(lambda: _mosquitto(workdir, security=security, max_queued=max_queued))


def run_mosquitto_tls(
    workdir: Path,
    *,
    cafile: Path,
    certfile: Path,
    keyfile: Path,
    require_certificate: bool = False,
) -> contextlib.AbstractContextManager[Mosquitto]:
    """Start Mosquitto with one TLS listener (TLS 1.2+) on a free port; clients are anonymous.

    With `require_certificate` only clients with a certificate signed by `cafile` get in.
    """
    tls = (
        f"cafile {cafile}\ncertfile {certfile}\nkeyfile {keyfile}\n"
        f"tls_version tlsv1.2\nrequire_certificate {str(require_certificate).lower()}\n"
    )
    return retrying(lambda: _mosquitto(workdir, listener_options=tls))


@contextlib.contextmanager
def _mosquitto(
    workdir: Path,
    *,
    listener_options: str = "",
    security: str = ANONYMOUS,
    max_queued: int = QUEUED,
) -> Iterator[Mosquitto]:
    port = free_port()
    conf = workdir / "mosquitto.conf"
    log_path = workdir / "mosquitto.log"
    conf.write_text(
        mosquitto_config(
            port, listener_options=listener_options, security=security, max_queued=max_queued
        )
    )
    argv = [executable("mosquitto"), "-c", str(conf)]
    with server("mosquitto", argv, log_path, port, lambda: tcp_open(port)):
        yield Mosquitto(HOST, port, log_path)


def mosquitto_config(
    port: int,
    persistence_dir: Path | None = None,
    *,
    listener_options: str = "",
    security: str = ANONYMOUS,
    max_queued: int = QUEUED,
) -> str:
    """Render a mosquitto.conf; with `persistence_dir`, sessions and queues survive a restart."""
    if persistence_dir is None:
        persistence = "persistence false\n"
    else:
        # a clean stop always saves; autosave bounds what a SIGKILL loses to a second or two
        persistence = (
            f"persistence true\npersistence_location {persistence_dir}/\nautosave_interval 1\n"
        )
    # `user` keeps a root-started broker from dropping to the `mosquitto` user,
    # who could not read our private temporary directory.
    return (
        f"listener {port} {HOST}\n"
        f"{listener_options}"
        f"{security}"
        f"{persistence}"
        "max_inflight_messages 1000\n"
        f"max_queued_messages {max_queued}\n"
        f"user {getpass.getuser()}\n"
        "log_dest stderr\n"
        "log_timestamp_format %Y-%m-%dT%H:%M:%S\n"
    )


@contextlib.contextmanager
def run_restartable_mosquitto(
    workdir: Path, *, persistence: bool = False
) -> Iterator[Restartable[Mosquitto]]:
    """Start Mosquitto that can be killed and restarted on the same port; stop it on exit.

    With `persistence`, the broker saves sessions, subscriptions and queued messages under
    `workdir/persistence` (on a clean stop, and every second), so a restart keeps them.
    """

    def make() -> Restartable[Mosquitto]:
        port = free_port()
        conf = workdir / "mosquitto.conf"
        store = workdir / "persistence"
        store.mkdir(exist_ok=True)
        conf.write_text(mosquitto_config(port, store if persistence else None))
        broker = Mosquitto(HOST, port, workdir / "mosquitto.log")
        argv = [executable("mosquitto"), "-c", str(conf)]
        return Restartable("mosquitto", broker, argv, broker.log_path, port, lambda: tcp_open(port))

    handle = first_start(make)
    try:
        yield handle
    finally:
        handle.stop()
