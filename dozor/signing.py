"""Ed25519 signing of evidence manifests.

The private key is a PEM file named by ``DOZOR_SIGNING_KEY_PATH``. Without it (the demo,
the tests) one is generated once and kept in the state directory; a configured path that
does not exist is an error, so production never signs with a key nobody provisioned.
The key id is the SHA-256 fingerprint of the raw public key, so anyone holding the
published public key can tell which key signed a manifest.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dozor.errors import UserError
from dozor.settings import Settings

ALGORITHM = "Ed25519"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Verifier:
    public: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def verify(self, signature_b64: str, data: bytes) -> bool:
        try:
            self.public.verify(base64.b64decode(signature_b64, validate=True), data)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.private.public_key())

    @property
    def key_id(self) -> str:
        return self.verifier.key_id

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode()


def default_key_path(settings: Settings) -> Path:
    return settings.state_dir / "signing" / "ed25519.pem"


def _generate(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    try:
        # link() fails if the key exists: two processes starting together keep the first key.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def load_signer(settings: Settings) -> Signer:
    path = settings.signing_key_path
    if path is None:
        path = default_key_path(settings)
        if not path.exists():
            _generate(path)
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise UserError(f"signing key {path} does not exist (DOZOR_SIGNING_KEY_PATH)") from None
    except (ValueError, TypeError) as exc:
        raise UserError(f"signing key {path} is not an unencrypted PEM key: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise UserError(f"signing key {path} is not an Ed25519 key")
    return Signer(private)


def load_verifier(settings: Settings) -> Verifier:
    """The published key; only the signing process needs the private one."""
    path = settings.signing_public_key_path
    if path is None:
        return load_signer(settings).verifier
    try:
        public = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise UserError(
            f"public key {path} does not exist (DOZOR_SIGNING_PUBLIC_KEY_PATH)"
        ) from None
    except ValueError as exc:
        raise UserError(f"public key {path} is not a PEM public key: {exc}") from None
    if not isinstance(public, Ed25519PublicKey):
        raise UserError(f"public key {path} is not an Ed25519 key")
    return Verifier(public)
