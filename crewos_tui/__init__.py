"""crewos-tui: a terminal workbench for CrewOS."""

__version__ = "0.1.0"
