"""The capture fuzzer: longer and random, beside the suite's bounded run."""
