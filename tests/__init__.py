"""ctbench's test suite, laid out like the ctbench package it tests."""
