"""Project templates: the folders and scaffold items a new project starts with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScaffoldSpec:
    kind: str  # folder | document | checklist
    path: str
    title: str
    description: str = ""


_COMMON = [
    ScaffoldSpec("document", "docs/brief.md", "Project brief", "Goal, scope, stakeholders and success criteria."),
    ScaffoldSpec("checklist", "", "Invite the team", "Add members or approve their access requests."),
]

TEMPLATES: dict[str, list[ScaffoldSpec]] = {
    "blank": [ScaffoldSpec("folder", "docs", "Documents"), *_COMMON],
    "software": [
        ScaffoldSpec("folder", "docs", "Documents"),
        ScaffoldSpec("folder", "docs/adr", "Architecture decisions", "One record per significant decision."),
        ScaffoldSpec("folder", "specs", "Specifications"),
        ScaffoldSpec("folder", "releases", "Release notes"),
        *_COMMON,
        ScaffoldSpec("document", "docs/adr/0001-record-decisions.md", "ADR 0001: record decisions"),
        ScaffoldSpec("checklist", "", "Define the first milestone", "A dated milestone with its tasks."),
        ScaffoldSpec("checklist", "", "Set up the review rota", "Who approves agent output, and when."),
    ],
    "research": [
        ScaffoldSpec("folder", "docs", "Documents"),
        ScaffoldSpec("folder", "sources", "Sources", "Papers, articles and datasets consulted."),
        ScaffoldSpec("folder", "notes", "Notes"),
        ScaffoldSpec("folder", "drafts", "Drafts"),
        *_COMMON,
        ScaffoldSpec("document", "docs/questions.md", "Research questions"),
        ScaffoldSpec("checklist", "", "Agree the citation style"),
    ],
    "consulting": [
        ScaffoldSpec("folder", "docs", "Documents"),
        ScaffoldSpec("folder", "client", "Client material"),
        ScaffoldSpec("folder", "deliverables", "Deliverables"),
        ScaffoldSpec("folder", "meetings", "Meeting notes"),
        *_COMMON,
        ScaffoldSpec("document", "docs/statement-of-work.md", "Statement of work"),
        ScaffoldSpec("checklist", "", "Schedule the weekly client update"),
    ],
}
