"""A child `dozor` process (a recording's preview, a test's worker) runs with its parent's
settings and its parent's engine."""

from pydantic import SecretStr

from dozor.settings import Settings, child_env


def test_a_child_gets_the_settings_and_the_backends_own_options() -> None:
    settings = Settings(
        model="/models/x.pt",
        backend="openvino",
        kafka_partitions={"dozor.events": 12},
        s3_secret_key=SecretStr("s3cret"),
    )
    environ = {
        "PATH": "/usr/bin",
        "DOZOR_OPENVINO_INT8": "true",  # a backend's own option: not a Settings field
        "DOZOR_MODEL": "/elsewhere/y.tflite",  # a field: the settings' value wins
        "DOZOR_DATABASE_URL": "postgresql://other/db",  # a field these settings leave unset
    }
    env = child_env(settings, environ)
    assert env["PATH"] == "/usr/bin"
    assert env["DOZOR_OPENVINO_INT8"] == "true"
    assert env["DOZOR_MODEL"] == "/models/x.pt"
    assert env["DOZOR_BACKEND"] == "openvino"
    assert "DOZOR_DATABASE_URL" not in env
    assert env["DOZOR_S3_SECRET_KEY"] == "s3cret"


def test_the_child_reads_back_the_parents_settings(monkeypatch) -> None:
    parent = Settings(
        kafka_partitions={"dozor.events": 12}, analysis_fps=5.5, s3_secret_key=SecretStr("k")
    )
    for name, value in child_env(parent, {}).items():
        monkeypatch.setenv(name, value)
    child = Settings(_env_file=None)  # type: ignore[call-arg]
    assert child.kafka_partitions == {"dozor.events": 12}  # dicts go as JSON
    assert child.analysis_fps == 5.5
    assert child.s3_secret_key.get_secret_value() == "k"
