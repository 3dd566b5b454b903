"""The HTTP server: the local service layer at CrewOS's own paths (FastAPI).

Imported only by ``crewos-tui serve`` and tests: fastapi stays off the TUI's start path.
"""
