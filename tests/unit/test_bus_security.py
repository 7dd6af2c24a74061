"""Every Kafka client Dozor makes carries the configured authentication and TLS."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from dozor import bus
from dozor.settings import Settings


class Recorder:
    """Stands in for a kafka-python client class: keeps the keyword arguments it got."""

    calls: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, *_topics: str, **kwargs: Any) -> None:
        Recorder.calls.append(kwargs)

    def send(self, _topic: str, **_message: Any) -> Recorder:
        return self

    def get(self, timeout: float) -> None:
        pass

    def list_topics(self) -> list[str]:
        return list(bus.topics.PARTITIONS)

    def close(self) -> None:
        pass

    def assign(self, _partitions: object) -> None:
        pass

    def seek_to_end(self) -> None:
        pass

    def position(self, _tp: object) -> int:
        return 0


SASL_SSL = {
    "kafka_security_protocol": "SASL_SSL",
    "kafka_username": "dozor-evidence",
    "kafka_password": "from-the-kafkauser-secret",
    "kafka_ssl_cafile": Path("/etc/kafka-ca/ca.crt"),
}


def test_every_client_authenticates_with_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("KafkaProducer", "KafkaConsumer", "KafkaAdminClient"):
        monkeypatch.setattr(bus, name, Recorder)
    Recorder.calls = []
    s = Settings(state_dir=tmp_path, **SASL_SSL)  # type: ignore[arg-type]
    bus.producer(s).send("dozor.events", value=b"{}")
    bus.consumer(s, "dozor-evidence", "dozor.events")
    bus.latest_reader(s, "dozor.signals.state")
    bus.ensure_topics(s)
    assert len(Recorder.calls) == 4
    for kwargs in Recorder.calls:
        assert kwargs["security_protocol"] == "SASL_SSL"
        assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
        assert kwargs["sasl_plain_username"] == "dozor-evidence"
        assert kwargs["sasl_plain_password"] == "from-the-kafkauser-secret"
        assert kwargs["ssl_cafile"] == "/etc/kafka-ca/ca.crt"
        assert kwargs["ssl_check_hostname"] is True


def test_the_embedded_broker_stays_plaintext(tmp_path: Path) -> None:
    assert bus.security(Settings(state_dir=tmp_path)) == {"security_protocol": "PLAINTEXT"}


def test_mutual_tls_without_sasl(tmp_path: Path) -> None:
    s = Settings(
        state_dir=tmp_path,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=Path("/ca.crt"),
        kafka_ssl_certfile=Path("/client.crt"),
        kafka_ssl_keyfile=Path("/client.key"),
    )
    options = bus.security(s)
    assert "sasl_mechanism" not in options
    assert (options["ssl_certfile"], options["ssl_keyfile"]) == ("/client.crt", "/client.key")


def test_sasl_without_credentials_is_refused_naming_the_settings(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DOZOR_KAFKA_USERNAME and DOZOR_KAFKA_PASSWORD"):
        Settings(state_dir=tmp_path, kafka_security_protocol="SASL_SSL")


def test_the_password_never_shows_in_the_settings_repr(tmp_path: Path) -> None:
    s = Settings(state_dir=tmp_path, **SASL_SSL)  # type: ignore[arg-type]
    assert "from-the-kafkauser-secret" not in repr(s)
