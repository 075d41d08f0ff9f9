"""Payloads shared by the layers above: workflow inputs and results, activity inputs and the
search attributes.

They travel through Temporal histories, so a field is added with a default and never renamed
or removed.
"""
