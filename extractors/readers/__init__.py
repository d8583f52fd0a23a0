"""One reader per kind of material, over the shared layer (extractors.layout for key–value
geometry, extractors.identifiers for identifier tokens, extractors.normalize for values)."""
