"""Evidence: capture, manifests, signing and verification of tamper-evident evidence."""
