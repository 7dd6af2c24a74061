"""Detector workers: sources -> YOLO backend -> tracker -> rules -> evidence -> publisher."""
