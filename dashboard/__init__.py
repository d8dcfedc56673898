"""The operations dashboard: one page served by the project, its assets shipped here, no internet needed."""
