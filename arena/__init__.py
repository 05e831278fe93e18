"""arena: LLM agents, search agents and scripted baselines playing strategic games."""

__version__ = "0.1.0"
