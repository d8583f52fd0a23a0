"""Reports: the contract's JSON (``build``) and the HTML page people read (``html``)."""
