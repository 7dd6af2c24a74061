"""The command layer: the `dozor` command, the demo and the embedded dev stack."""
