"""The ground floor: what probes, tasks and notifications all stand on.

The working-day calendar, the clock, the database base types and the results a probe
hands to the tracker. Nothing here imports a package above it (only ``config``).
"""
