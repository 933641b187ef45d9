"""The certificate and key a TLS server presents: checked before serving, or made up.

A bad certificate found only at the first handshake would be a server that starts
and then fails every client; so the files are read here, at start, and a missing
file, something that is not PEM, an encrypted key or a key that belongs to another
certificate each end ``pactstub serve`` with one line. ``--tls-self-signed`` makes
a key and a certificate for the names served, for local use, and prints the
certificate's SHA-256 fingerprint so a client can pin it.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pactstub.errors import ConfigError

if TYPE_CHECKING:
    from cryptography import x509

#: How long a self-signed certificate is valid: long enough for any test run or sandbox.
SELF_SIGNED_DAYS = 30
#: Names every self-signed certificate covers besides the host served.
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files of a certificate (chain) and its private key, known to belong together."""

    cert: Path
    key: Path
    #: SHA-256 of the certificate, ``AB:CD:...``
    fingerprint: str
    self_signed: bool = False

    def describe(self) -> str:
        kind = "self-signed certificate" if self.self_signed else "certificate"
        return f"TLS {kind} {self.cert} (SHA-256 {self.fingerprint})"


def load(cert: str | Path, key: str | Path) -> TlsFiles:
    """Check that ``cert`` is a PEM certificate and ``key`` its unencrypted private key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert_path, key_path = Path(cert), Path(key)
    try:
        certificate = x509.load_pem_x509_certificate(_read(cert_path, "--tls-cert"))
    except ValueError as error:
        raise ConfigError(f"--tls-cert {cert_path}: not a PEM certificate ({error})") from error
    try:
        private_key = serialization.load_pem_private_key(_read(key_path, "--tls-key"), password=None)
    except TypeError as error:  # cryptography's way of saying "a password is needed"
        raise ConfigError(f"--tls-key {key_path}: the key is encrypted; give an unencrypted key") from error
    except ValueError as error:
        raise ConfigError(f"--tls-key {key_path}: not a PEM private key ({error})") from error
    if private_key.public_key() != certificate.public_key():
        raise ConfigError(f"--tls-key {key_path} does not match the certificate in {cert_path}")
    return TlsFiles(cert_path, key_path, fingerprint(certificate))


def self_signed_files(host: str, folder: Path) -> TlsFiles:
    """A new key and a certificate for ``host`` and the local names, written to ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pactstub self-signed")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SELF_SIGNED_DAYS))
        .add_extension(x509.SubjectAlternativeName(_alternative_names(host)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TlsFiles(cert_path, key_path, fingerprint(certificate), self_signed=True)


@contextmanager
def tls_files(cert: str | None, key: str | None, self_signed: bool, host: str) -> Iterator[TlsFiles | None]:
    """The checked files, a new self-signed pair for ``host`` (removed afterwards), or None."""
    if self_signed and (cert or key):
        raise ConfigError("--tls-self-signed makes its own certificate; give it without --tls-cert/--tls-key")
    if bool(cert) != bool(key):
        raise ConfigError("--tls-cert and --tls-key go together: give both, or --tls-self-signed")
    if cert and key:
        yield load(cert, key)
        return
    if not self_signed:
        yield None
        return
    folder, owner = Path(tempfile.mkdtemp(prefix="pactstub-tls-")), os.getpid()
    try:
        yield self_signed_files(host, folder)
    finally:
        if os.getpid() == owner:  # not in a forked worker leaving: the others still read it
            shutil.rmtree(folder, ignore_errors=True)


def fingerprint(certificate: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import hashes

    return ":".join(f"{byte:02X}" for byte in certificate.fingerprint(hashes.SHA256()))


def _alternative_names(host: str) -> list[x509.GeneralName]:
    """The host served, the local names, and this machine's name when serving every address."""
    from cryptography import x509

    names = [host, *LOCAL_NAMES]
    if host in ("0.0.0.0", "::", ""):
        names.append(socket.gethostname())
    general: list[x509.GeneralName] = []
    for text in dict.fromkeys(n for n in names if n not in ("0.0.0.0", "::", "")):
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(text)))
        except ValueError:
            general.append(x509.DNSName(text))
    return general


def _read(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{option} {path}: cannot read it ({error.strerror})") from error


__all__ = ["TlsFiles", "load", "self_signed_files", "tls_files"]
