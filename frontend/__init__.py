"""lowerflow.frontend: the TF1 graph-building API. Imports only lowerflow.ir."""
