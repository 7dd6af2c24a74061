"""DOZOR_ENV=production refuses generated keys and default secrets; development generates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from dozor.errors import UserError
from dozor.production import ProductionRefusal, refuse_defaults
from dozor.settings import Settings
from evidence.signing import load_signer, load_verifier, new_private_pem
from registry import crypto

PROD = {"env": "production", "s3_secret_key": "a-real-secret"}


def test_production_never_generates_the_evidence_signing_key(tmp_path: Path) -> None:
    with pytest.raises(ProductionRefusal, match="DOZOR_SIGNING_KEY_PATH"):
        load_signer(Settings(state_dir=tmp_path, **PROD))  # type: ignore[arg-type]
    assert not (tmp_path / "signing").exists()
    provisioned = tmp_path / "private.pem"
    provisioned.write_bytes(new_private_pem())
    signer = load_signer(Settings(state_dir=tmp_path, signing_key_path=provisioned, **PROD))  # type: ignore[arg-type]
    assert len(signer.key_id) == 64


def test_production_never_generates_the_stream_credential_key(tmp_path: Path) -> None:
    with pytest.raises(ProductionRefusal, match="DOZOR_SECRET_KEY"):
        crypto.fernet(Settings(state_dir=tmp_path, **PROD))  # type: ignore[arg-type]
    assert not (tmp_path / "secret.key").exists()
    key = Fernet.generate_key().decode()
    assert crypto.fernet(Settings(state_dir=tmp_path, secret_key=key, **PROD))  # type: ignore[arg-type]


def test_production_refuses_the_published_default_secret(tmp_path: Path) -> None:
    with pytest.raises(ProductionRefusal, match="DOZOR_S3_SECRET_KEY"):
        refuse_defaults(Settings(state_dir=tmp_path, env="production"))
    refuse_defaults(Settings(state_dir=tmp_path, **PROD))  # type: ignore[arg-type]
    refuse_defaults(Settings(state_dir=tmp_path))  # development may use the dev stack's


def test_the_api_never_generates_a_private_key(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="does not exist"):
        load_verifier(Settings(state_dir=tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_production_process_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    env = {
        "DOZOR_ENV": "production",
        "DOZOR_STATE_DIR": str(tmp_path),
        "DOZOR_S3_SECRET_KEY": "a-real-secret",
        "PATH": "/usr/bin:/bin",
    }
    run = subprocess.run(
        [sys.executable, "-m", "dozor_cli.cli", "consume", "evidence", "--until-idle", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "DOZOR_ENV=production" in lines[0], run.stderr
    assert not (tmp_path / "signing").exists()


def test_the_production_api_refuses_to_start_without_its_keys(tmp_path: Path) -> None:
    from registry.app import create_app

    with pytest.raises(UserError, match="DOZOR_SIGNING_PUBLIC_KEY_PATH"):
        create_app(Settings(state_dir=tmp_path, **PROD))  # type: ignore[arg-type]
    public = tmp_path / "public.pem"
    public.write_text(load_signer(Settings(state_dir=tmp_path / "dev")).verifier.public_pem())
    key = Fernet.generate_key().decode()
    app = create_app(
        Settings(state_dir=tmp_path, signing_public_key_path=public, secret_key=key, **PROD)  # type: ignore[arg-type]
    )
    assert app.state.verifier.public_pem() == public.read_text()
