"""Kafka topic names and keys. Key = camera id, so one camera's events stay ordered."""

EVENTS = "dozor.events"
EVENTS_DLQ = "dozor.events.dlq"
# Events whose evidence is signed and indexed (contract.signed.SignedEvent, key = camera id).
EVENTS_SIGNED = "dozor.events.signed"
# Cases for downstream enforcement systems (contract.cases.Case, key = camera id).
ENFORCEMENT_CASES = "enforcement.cases"
# Smart traffic-light controllers' signal state (contract.signals.SignalState, key =
# controller id).
SIGNAL_STATE = "dozor.signals.state"

# Created with their final partition count: partitions cannot be added later on every
# broker we run against, and consumers scale out up to this number.
PARTITIONS = {
    EVENTS: 6,
    EVENTS_SIGNED: 6,
    EVENTS_DLQ: 1,
    ENFORCEMENT_CASES: 6,
    SIGNAL_STATE: 3,
}


def key_for(camera_id: str) -> bytes:
    return camera_id.encode()
