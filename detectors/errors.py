"""Bad detector input: a missing or corrupt video, an unknown camera, missing weights."""

from dozor.errors import UserError


class DetectorInputError(UserError):
    pass
