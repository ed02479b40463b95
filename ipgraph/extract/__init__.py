"""Stage 3: extractors, one module per kind of thing found in the text."""
