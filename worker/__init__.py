"""Queue jobs (rq): thin functions that take ids and call :mod:`intake.pipeline`."""
