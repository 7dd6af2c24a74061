"""The one contract between detectors, consumers and the registry."""
