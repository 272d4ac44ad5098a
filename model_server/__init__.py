"""The model server: detection pipeline, batch command line and the queue worker."""
