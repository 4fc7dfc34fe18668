"""Sign-in: password hashes, token secrets, signed session cookies with CSRF tokens, and the
limit on wrong passwords. Plain Python: the web layer (:mod:`obeya.api.auth`) and the CLI use
it, the store keeps only what it hashes."""
