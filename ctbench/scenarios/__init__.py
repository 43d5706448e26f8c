"""Scenarios: what each command does to the model, on one shared harness."""
