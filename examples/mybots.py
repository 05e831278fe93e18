"""A custom agent: `arena run --agent greedy=examples.mybots:Greedy:prefer=C --agent tit-for-tat`."""

from arena.agents.base import Decision, Turn


class Greedy:
    def __init__(self, prefer: str = "D") -> None:
        self.prefer = prefer

    def act(self, turn: Turn) -> Decision:
        if turn.legal_actions is None:  # a free-text turn (e.g. cheap talk)
            return Decision(action="Let's cooperate.")
        choice = self.prefer if self.prefer in turn.legal_actions else turn.legal_actions[0]
        return Decision(action=choice)
