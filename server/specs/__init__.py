"""Configuration specs: the only code that reads ``config/``.

``load_config(dir)`` reads and validates every configuration file and returns a :class:`ConfigSet`,
or raises :class:`server.errors.ConfigInvalid` with *all* errors found. ``registry`` publishes loaded
sets as numbered versions in the database and keeps each process's copy current.
"""
from server.specs.model import ConfigSet, FormSpec
from server.specs.loader import load_config

__all__ = ["ConfigSet", "FormSpec", "load_config"]
