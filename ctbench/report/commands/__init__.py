"""Each command's report sections, one module per command, named after it."""
