"""The evidence manifest: where it lives. Written and signed by the evidence consumer."""


def manifest_key(camera_id: str, event_id: str) -> str:
    """Object key of an event's signed manifest in the evidence bucket."""
    return f"manifests/{camera_id}/{event_id}.json"
