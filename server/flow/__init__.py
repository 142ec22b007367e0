"""Workflows at work: records moving through their states, timers, escalation and the tick.

``server.workflow`` is the pure part (definitions, machine, deadlines, calendar); this package is
the service layer that stores states, timers and steps, applies transition actions in one
transaction, and subscribes to the records service's events.
"""
