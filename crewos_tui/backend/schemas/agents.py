"""Agent discovery: agents, skills, skill-discovery metadata and the A2A-style agent card."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from .common import Wire

__all__ = ["AgentCard", "AgentCardSkill", "AgentInfo", "AgentSkill", "SkillDiscovery", "SkillRoute"]


class AgentSkill(Wire):
    id: str
    name: str
    description: str = ""
    agent: str = ""
    tags: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    input_modes: list[str] = Field(default_factory=lambda: ["text/plain"])
    output_modes: list[str] = Field(default_factory=lambda: ["text/markdown"])


class AgentInfo(Wire):
    name: str
    title: str = ""
    description: str = ""
    kind: str = "builtin"  # builtin | model
    tags: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    input_modes: list[str] = Field(default_factory=lambda: ["text/plain"])
    output_modes: list[str] = Field(default_factory=lambda: ["text/markdown"])
    needs_project: bool = False
    streaming: bool = True
    skills: list[AgentSkill] = Field(default_factory=list[AgentSkill])


class SkillRoute(Wire):
    """How a message reaches an agent without an explicit ``agent`` field."""

    agent: str
    keywords: list[str] = Field(default_factory=list)
    order: int = 0


class SkillDiscovery(Wire):
    """What a router or planner needs: every skill, and the routing rule."""

    default_agent: str = "helper"
    rule: str = ""
    routes: list[SkillRoute] = Field(default_factory=list[SkillRoute])
    skills: list[AgentSkill] = Field(default_factory=list[AgentSkill])


class AgentCardSkill(Wire):
    id: str
    name: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)


class AgentCard(Wire):
    """An A2A-style agent card. Reads this server's shape and A2A v1.0's
    (``supportedInterfaces`` instead of ``url``); only ``name`` and ``skills[].id/name``
    are required."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, serialize_by_alias=True)

    name: str
    description: str = ""
    url: str | None = None
    version: str = ""
    protocol_version: str = Field(default="", alias="protocolVersion")
    capabilities: dict[str, Any] = Field(default_factory=dict)
    default_input_modes: list[str] = Field(default_factory=list, alias="defaultInputModes")
    default_output_modes: list[str] = Field(default_factory=list, alias="defaultOutputModes")
    skills: list[AgentCardSkill] = Field(default_factory=list[AgentCardSkill])
    security_schemes: dict[str, Any] = Field(default_factory=dict, alias="securitySchemes")
    security: list[dict[str, Any]] = Field(default_factory=list[dict[str, Any]])
    supported_interfaces: list[dict[str, Any]] = Field(default_factory=list[dict[str, Any]],
                                                       alias="supportedInterfaces")

    @model_validator(mode="after")
    def _url_from_interfaces(self) -> AgentCard:
        # A2A v1.0 puts the endpoint in supportedInterfaces[]; take the first one's url.
        if not self.url:
            for iface in self.supported_interfaces:
                if iface.get("url"):
                    self.url = str(iface["url"])
                    if not self.protocol_version and iface.get("protocolVersion"):
                        self.protocol_version = str(iface["protocolVersion"])
                    break
        return self

    @property
    def streaming(self) -> bool:
        return bool(self.capabilities.get("streaming"))
