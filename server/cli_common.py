"""What the flask commands share: reading a draft configuration for the simulate commands, and the
summary of decisions that the tick commands print."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Iterable

import click
from flask import current_app

from server.errors import ConfigInvalid
from server.specs.model import ConfigSet


def load_draft(config_dir: str) -> ConfigSet:
    """The draft configuration in ``config_dir`` (every error printed and exit 1 when it is broken),
    with this process serving the published version to compare it with."""
    from server.specs import load_config

    try:
        draft = load_config(Path(config_dir))
    except ConfigInvalid as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        sys.exit(1)
    current_app.extensions["registry"].adopt_published()
    return draft


def echo_decision_counts(decisions: Iterable) -> None:  # type: ignore[type-arg]
    """One line per ruleset and rule that decided something: ``overdue.deadline_passed：1 项``."""
    for (ruleset, rule), count in sorted(Counter((d.ruleset, d.rule) for d in decisions).items()):
        click.echo(f"{ruleset}.{rule}：{count} 项")
