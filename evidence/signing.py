"""Ed25519 signing of evidence manifests.

The private key is a PEM file named by ``DOZOR_SIGNING_KEY_PATH``. Without it (the demo,
the tests) one is generated once and kept in the state directory, its public key beside it;
a configured path that does not exist is an error, and ``DOZOR_ENV=production`` refuses to
generate, so production never signs with a key nobody provisioned. Detector workers sign
their events with keys of their own, made by the same routine (:func:`load_detector_signer`).
The key id is the SHA-256 fingerprint of the raw public key, so anyone holding the
published public key can tell which key signed a manifest.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contract.events import DetectionEvent
from dozor.errors import UserError
from dozor.keyfile import ensure_key_file
from dozor.production import refuse_generated
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


def default_public_key_path(settings: Settings) -> Path:
    """Written beside a generated key, so verify-only processes (the API, the case
    consumer) of a demo load a public key and never touch, let alone make, a private one."""
    return settings.state_dir / "signing" / "ed25519.pub.pem"


def new_private_pem() -> bytes:
    """The one Ed25519 key generator: evidence signing keys and detector keys alike."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(path: Path, setting: str) -> Signer:
    """An unencrypted PEM Ed25519 private key; ``setting`` names where the path came from."""
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise UserError(f"signing key {path} does not exist ({setting})") from None
    except (ValueError, TypeError) as exc:
        raise UserError(f"signing key {path} is not an unencrypted PEM key: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise UserError(f"signing key {path} is not an Ed25519 key")
    return Signer(private)


def generated_key(settings: Settings, path: Path, what: str, setting: str) -> Signer:
    """The key at ``path``, generated there on first use: demo and tests only."""
    if not path.exists():
        refuse_generated(settings, what, setting)
    return load_private_key(ensure_key_file(path, new_private_pem), setting)


def parse_public_pem(pem: bytes) -> Verifier:
    """An Ed25519 public key from PEM (SubjectPublicKeyInfo); ValueError for anything else."""
    public = serialization.load_pem_public_key(pem)
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return Verifier(public)


def load_signer(settings: Settings) -> Signer:
    path = settings.signing_key_path
    if path is not None:
        return load_private_key(path, "DOZOR_SIGNING_KEY_PATH")
    signer = generated_key(
        settings, default_key_path(settings), "the evidence signing key", "DOZOR_SIGNING_KEY_PATH"
    )
    ensure_key_file(
        default_public_key_path(settings), lambda: signer.verifier.public_pem().encode()
    )
    return signer


def load_verifier(settings: Settings) -> Verifier:
    """The published key: only the evidence consumer loads the private one."""
    path = settings.signing_public_key_path
    setting = "DOZOR_SIGNING_PUBLIC_KEY_PATH"
    if path is None:
        path = default_public_key_path(settings)
        setting += " (unset: the evidence consumer or `dozor setup` writes one in development)"
    try:
        return parse_public_pem(path.read_bytes())
    except FileNotFoundError:
        raise UserError(f"public key {path} does not exist ({setting})") from None
    except ValueError as exc:
        raise UserError(f"public key {path} is not a PEM public key (Ed25519): {exc}") from None


# --- detector workers' keys: every event is signed by the worker that made it -------------

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def detector_key_path(settings: Settings, worker_id: str) -> Path:
    """Where ``worker_id``'s private key lives: DOZOR_DETECTOR_KEY_FILE, else one file per
    worker in the state directory (demo and tests)."""
    if settings.detector_key_file is not None:
        return settings.detector_key_file
    if not _SAFE_NAME.match(worker_id):
        raise UserError(f"worker id {worker_id!r} is no file name: set DOZOR_DETECTOR_KEY_FILE")
    return settings.state_dir / "detector-keys" / f"{worker_id}.pem"


def load_detector_signer(settings: Settings) -> Signer:
    """The key this worker (DOZOR_WORKER_ID) signs its events with."""
    path = detector_key_path(settings, settings.worker_id)
    if settings.detector_key_file is not None:
        return load_private_key(path, "DOZOR_DETECTOR_KEY_FILE")
    return generated_key(settings, path, "the detector's signing key", "DOZOR_DETECTOR_KEY_FILE")


def sign_event(event: DetectionEvent, signer: Signer) -> DetectionEvent:
    """The event with its ``keyid`` and ``signature`` extension attributes."""
    keyed = event.model_copy(update={"keyid": signer.key_id, "signature": None})
    return keyed.model_copy(update={"signature": signer.sign(keyed.signed_bytes())})
