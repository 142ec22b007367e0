"""The 待办 inbox: what waits on a unit (tasks, notices, escalation steps, transitions), in one table."""
