"""Workflow: pure state machines, the working-day calendar, deadlines (no Flask, no database)."""
