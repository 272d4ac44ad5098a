"""A project's survey design: its locations (cameras registered once, `locations`) and the
deployment periods each card from them adds (`periods`)."""
