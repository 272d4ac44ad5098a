"""Deployments (one camera at one place) and events (independent sequences within one), as
ecologists count them: computed from the stored results by both processes."""
