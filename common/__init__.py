"""The shared kernel every app may use: roles, admin display helpers, the application
error and lifecycle logging. It imports no project app (see docs/architecture.md)."""
