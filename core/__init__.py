"""Process-level plumbing shared by the worker, the API and the launcher."""
