"""The CrewOS endpoint map, as the tests read it: ``docs/api/endpoints.tsv`` in this
repository (group, method, path, auth, purpose, notes). Nothing outside the tree is read."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

MAP_FILE = Path(__file__).resolve().parents[1] / "docs" / "api" / "endpoints.tsv"

#: The map's groups and how many distinct endpoints each lists: a guard against a map
#: that was cut or edited by accident (a walk over an empty map passes vacuously).
GROUPS = {
    "Authentication and API Keys": 9,
    "Health and Discovery Documents": 5,
    "Projects and Collaboration": 21,
    "Tasks, Reviews, and Durable Jobs": 22,
    "Notifications": 7,
    "Project Tokenization": 12,
    "Chat and Agent Runs": 6,
    "Sessions, Transcripts, and Feedback": 15,
    "Agent Discovery": 7,
    "Admin Automation": 23,
    "Review, Validation, Testing, and Capability Gaps": 23,
    "Knowledge Base and Wiki Graph": 26,
    "Artifacts and Generated Files": 4,
}
#: An id no service issued (a well-formed ULID), for the map's {path} parameters.
FAKE_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


@dataclass(frozen=True)
class Endpoint:
    group: str
    method: str
    path: str
    auth: str  # Public | API key | JWT | Admin

    @property
    def url(self) -> str:
        return re.sub(r"\{[^}]+\}", FAKE_ID, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def load_endpoints() -> list[Endpoint]:
    with MAP_FILE.open(newline="", encoding="utf-8") as f:
        rows = csv.DictReader(f, delimiter="\t")
        found = [Endpoint(r["group"], r["method"].upper(), r["path"], r["auth"].strip())
                 for r in rows if r["group"] in GROUPS]
    return list(dict.fromkeys(found))  # the map lists a few rows twice


ENDPOINTS = load_endpoints()
