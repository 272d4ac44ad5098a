"""Repeated false alarms: boxes in the same place of a location's frame, file after file."""
