"""The model server's part of finding repeated false alarms: telling apart, by appearance, an
animal that stands where a branch is."""
