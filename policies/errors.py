"""The error every part of pack loading raises (reading, merging, validating)."""

from __future__ import annotations


class PolicyError(ValueError):
    """A pack is invalid; the message names the file, the field path and the reason."""
