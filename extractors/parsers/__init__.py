"""One module per input format; each produces an :class:`extractors.model.Document`."""
