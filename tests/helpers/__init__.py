"""What several test modules share: builders, stand-ins and the CLI runner,
imported as ``tests.helpers.<module>`` (the repository root is on pytest's
``pythonpath``)."""
