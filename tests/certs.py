"""A throwaway PKI for TLS tests, made with the openssl command: a CA, server and client certs."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

DAYS = "2"
SERVER_EXTENSIONS = (
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature\n"
    "extendedKeyUsage=serverAuth\n"
    "subjectAltName={names}\n"
    "subjectKeyIdentifier=hash\n"
    "authorityKeyIdentifier=keyid\n"
)
CLIENT_EXTENSIONS = (
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature\n"
    "extendedKeyUsage=clientAuth\n"
    "subjectKeyIdentifier=hash\n"
    "authorityKeyIdentifier=keyid\n"
)


@dataclass(frozen=True)
class Pki:
    """PEM files: the CA, a server certificate, a client certificate, another CA."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    # the same client key, encrypted with `key_password`
    client_key_encrypted: Path
    key_password: str
    # a CA that signed nothing here: trusting only it must fail
    other_ca: Path


def _openssl(*args: str | Path, cwd: Path) -> None:
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed (Debian package openssl)"
    done = subprocess.run(
        [openssl, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, f"openssl {' '.join(map(str, args))}: {done.stderr}"


def _key_and_request(directory: Path, name: str, cn: str) -> None:
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}",
        cwd=directory,
    )  # fmt: skip


def _self_signed_ca(directory: Path, name: str) -> Path:
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", DAYS, "-subj", f"/CN={name}",
        cwd=directory,
    )  # fmt: skip
    return directory / f"{name}.crt"


def _sign(directory: Path, name: str, extensions: str) -> Path:
    (directory / f"{name}.ext").write_text(extensions)
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", DAYS, "-extfile", f"{name}.ext", "-out", f"{name}.crt",
        cwd=directory,
    )  # fmt: skip
    return directory / f"{name}.crt"


def make_pki(
    directory: Path,
    client_cn: str = "shopfloor-test-client",
    server_names: str = "IP:127.0.0.1,DNS:localhost",
) -> Pki:
    """Create the CA, a server certificate for `server_names` (subjectAltName) and a client
    certificate (EC P-256, valid two days)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _self_signed_ca(directory, "ca")
    other_ca = _self_signed_ca(directory, "other-ca")
    _key_and_request(directory, "server", "localhost")
    _key_and_request(directory, "client", client_cn)
    server_cert = _sign(directory, "server", SERVER_EXTENSIONS.format(names=server_names))
    client_cert = _sign(directory, "client", CLIENT_EXTENSIONS)
    password = "test-key-password"
    _openssl(
        "pkey", "-in", "client.key", "-aes256", "-passout", f"pass:{password}",
        "-out", "client-encrypted.key",
        cwd=directory,
    )  # fmt: skip
    return Pki(
        ca=ca,
        server_cert=server_cert,
        server_key=directory / "server.key",
        client_cert=client_cert,
        client_key=directory / "client.key",
        client_key_encrypted=directory / "client-encrypted.key",
        key_password=password,
        other_ca=other_ca,
    )
