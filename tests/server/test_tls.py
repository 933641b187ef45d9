"""HTTPS: a certificate given, or made up at start; checked by real clients; bad files refused.

The certificates are made here with ``cryptography``: a test CA and a server
certificate it signs, as a team's own CA would issue one, so the client verifies a
chain, not just a copy of the server's certificate.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pactstub.cli import main
from tests.conftest import EPX_PACT
from tests.server.wire import address


@dataclass(frozen=True)
class Issued:
    ca: Path
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


def issue(folder: Path, name: str = "server") -> Issued:
    """A CA, and a certificate for 127.0.0.1 and localhost signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{name} test CA"))
        .issuer_name(_name(f"{name} test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Issued(folder / "ca.pem", folder / "cert.pem", _write_key(key, folder / "key.pem"))


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    return issue(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize(
    "args",
    [[], ["--workers", "2"], ["--server", "werkzeug"]],
    ids=["one-worker", "two-workers", "werkzeug"],
)
def test_https_with_a_given_certificate_verified_by_real_clients(
    serve: Any, issued: Issued, sqlite_url: str, args: list[str]
) -> None:
    server = serve(
        "--pact", str(EPX_PACT), "--port", "0", "--database-url", sqlite_url,
        "--tls-cert", str(issued.cert), "--tls-key", str(issued.key), *args,
    )  # fmt: skip
    assert server.url.startswith("https://127.0.0.1:")
    answer = requests.get(f"{server.url}/health", verify=str(issued.ca), timeout=10)
    assert answer.json()["status"] == "healthy"
    with httpx.Client(verify=ssl.create_default_context(cafile=issued.ca)) as client:
        assert client.get(f"{server.url}/health").status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{server.url}/health", timeout=10)  # the system's CAs do not know ours


def test_a_malformed_request_over_tls_is_answered_as_json(
    serve: Any, issued: Issued, sqlite_url: str
) -> None:
    server = serve(
        "--pact", str(EPX_PACT), "--port", "0", "--database-url", sqlite_url,
        "--tls-cert", str(issued.cert), "--tls-key", str(issued.key),
    )  # fmt: skip
    context = ssl.create_default_context(cafile=issued.ca)
    with (
        socket.create_connection(address(server.url), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
    ):
        sock.sendall(b"POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"application/json" in head
    assert body.startswith(b'{"error": "malformed request')


def test_a_self_signed_certificate_is_made_and_its_fingerprint_printed(serve: Any, sqlite_url: str) -> None:
    server = serve("--pact", str(EPX_PACT), "--port", "0", "--database-url", sqlite_url, "--tls-self-signed")
    line = server.process.stdout.readline()
    assert "TLS self-signed certificate" in line
    cert = line.split("certificate ", 1)[1].split(" (", 1)[0]
    fingerprint = line.split("SHA-256 ", 1)[1].rstrip(")\n")
    assert requests.get(f"{server.url}/health", verify=cert, timeout=10).status_code == 200
    served = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(address(server.url)))
    digest = hashlib.sha256(served).hexdigest().upper()
    assert fingerprint.replace(":", "") == digest
    assert server.stop() == 0
    assert not Path(cert).exists()  # made for this run only


BAD_TLS = {
    "missing certificate": (["--tls-cert", "{tmp}/nope.pem", "--tls-key", "{key}"], "nope.pem"),
    "key of another certificate": (["--tls-cert", "{cert}", "--tls-key", "{other_key}"], "does not match"),
    "key given as certificate": (["--tls-cert", "{key}", "--tls-key", "{key}"], "not a PEM certificate"),
    "certificate given as key": (["--tls-cert", "{cert}", "--tls-key", "{cert}"], "not a PEM private key"),
    "certificate without key": (["--tls-cert", "{cert}"], "go together"),
    "self-signed and files": (
        ["--tls-self-signed", "--tls-cert", "{cert}", "--tls-key", "{key}"],
        "self-signed",
    ),
    "waitress has no TLS": (["--server", "waitress", "--tls-self-signed"], "waitress has no TLS"),
}


@pytest.mark.parametrize(("args", "said"), BAD_TLS.values(), ids=BAD_TLS.keys())
def test_bad_tls_input_ends_with_one_line_and_exit_2(
    tmp_path: Path, issued: Issued, args: list[str], said: str
) -> None:
    other = issue(tmp_path / "other", "other")
    files = {"tmp": tmp_path, "cert": issued.cert, "key": issued.key, "other_key": other.key}
    command = ["serve", "--pact", str(EPX_PACT), "--port", "0", *(arg.format(**files) for arg in args)]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2
    assert said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
