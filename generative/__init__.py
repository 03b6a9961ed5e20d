"""Generative models under one interface, with their data, metrics and one training loop."""
