"""Layer 6, run: the report pipeline (execute, export, publish) and the ``kcpp`` command."""
