"""Errors a user can act on: the CLI prints the message as one line and exits with status 2."""


class UserError(RuntimeError):
    pass
