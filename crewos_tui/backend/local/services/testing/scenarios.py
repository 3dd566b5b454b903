"""The configured test scenarios: a prompt, the built-in agent that answers it, and the
validation rubric its answer must pass. Ids are stable; the list is sorted by id.

They are written against the built-in agents' documented behaviour, so on a fresh
workspace each one has a known outcome — including ``reporter-cites-sources``,
which fails on purpose until the reporter cites its sources (a capability gap the
gap report picks up).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ....errors import Invalid
from ....schemas import Scenario, ValidationRubric
from ....schemas.validation import CheckName


@dataclass(frozen=True)
class ScenarioSpec:
    id: str
    name: str
    agent: str
    prompt: str
    rubric: ValidationRubric
    description: str = ""
    needs_project: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)

    def model(self) -> Scenario:
        return Scenario(id=self.id, name=self.name, description=self.description, agent=self.agent,
                        prompt=self.prompt, needs_project=self.needs_project, tags=list(self.tags),
                        rubric=self.rubric.model_dump(mode="json", exclude_defaults=True))


SCENARIOS: tuple[ScenarioSpec, ...] = tuple(sorted((
    ScenarioSpec(
        "helper-capabilities", "Helper explains the workbench", "helper", "What can I do here?",
        ValidationRubric(required_sections=["What this workbench does"], min_chars=200),
        description="The helper names what the workbench offers.", tags=("helper", "onboarding")),
    ScenarioSpec(
        "helper-inbox", "Helper lists pending work", "helper", "What is waiting for me?",
        ValidationRubric(min_chars=40, forbidden_terms=["lorem ipsum", "as an ai language model", "TODO",
                                                        "traceback"]),
        description="The helper answers with the caller's pending work, without errors.",
        tags=("helper", "inbox")),
    ScenarioSpec(
        "planner-breakdown", "Planner breaks a request into tasks", "planner",
        "Break down: write docs; record demo; email customers",
        ValidationRubric(min_chars=60, required_sections=["Proposed tasks"], weights={CheckName.required_sections: 2}),
        description="The planner proposes one task per part of the request.", tags=("planner",)),
    ScenarioSpec(
        "reporter-update", "Reporter writes a project update", "reporter", "Prepare the project update",
        ValidationRubric(required_sections=["Tasks", "Reviews", "Documents"], min_chars=150),
        description="The reporter's update has the standard sections.", needs_project=True,
        tags=("reporter", "project")),
    ScenarioSpec(
        "reporter-cites-sources", "Reporter cites its sources", "reporter", "Prepare the project update",
        ValidationRubric(require_citations=True, min_citations=1, weights={CheckName.citations: 3}),
        description="A project update should say where its facts come from (fails until the reporter "
                    "cites sources).", needs_project=True, tags=("reporter", "citations")),
), key=lambda s: s.id))

_BY_ID = {s.id: s for s in SCENARIOS}


def scenario(scenario_id: str) -> ScenarioSpec:
    spec = _BY_ID.get(scenario_id)
    if spec is None:
        raise Invalid(f"unknown scenario {scenario_id!r}; configured: {', '.join(_BY_ID)}")
    return spec


def select_scenarios(ids: list[str] | None) -> list[ScenarioSpec]:
    """The scenarios named (in the order given, duplicates dropped), or all of them."""
    if not ids:
        return list(SCENARIOS)
    return [scenario(i) for i in dict.fromkeys(ids)]
