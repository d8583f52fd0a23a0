"""Rule packs (data) and the checks (small named functions) that judge a dossier."""
