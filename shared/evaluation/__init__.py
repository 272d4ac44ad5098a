"""How good the detections were: ground truth read from the usual formats, matched to the
results by path, and the figures (precision, recall, F1, confusion, precision-recall curves)."""
