"""Pure psychometric computations (numpy and scipy only; no Django, no project app)."""
