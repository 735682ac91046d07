"""The product's settings with the benchmark's own routes (the autosave baseline view)."""

from ccs_sim.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
