"""The intake service: dossiers, storage, reports, the HTTP API and the command line."""
