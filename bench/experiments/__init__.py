"""The measurements behind ctbench's constants: see bench/README.md."""
