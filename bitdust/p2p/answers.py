"""Our answers to the packets peers sent us recently, so a retried packet gets the same answer.

A peer whose Ack got lost sends its packet again; acting on it twice would be wrong, answering
nothing would make it retry until it gives up. So the gateway remembers what it answered to each
recent ``(creator, packet id)``, and None while a handler still works on it (a retry then gets
nothing yet). The memory is bounded: past ``max_answers`` the oldest answers are forgotten, and a
retry of one of those is only dropped (the replay guard still refuses to act on it twice).
"""

from __future__ import annotations

import collections

Answer = tuple[str, bytes]
"""``(command, payload)``: an Ack or a Fail and what it carried."""


class AnswerMemory:
    """The last ``max_answers`` answers by ``(creator_id, packet_id)``, the most recently set kept longest."""

    def __init__(self, max_answers: int) -> None:
        self.max_answers = max_answers
        self._answers: collections.OrderedDict[tuple[str, str], Answer | None] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, creator_id: str, packet_id: str) -> Answer | None:
        """The answer given to that packet, or None (not answered yet, or forgotten)."""
        return self._answers.get((creator_id, packet_id))

    def remember(self, creator_id: str, packet_id: str, answer: Answer | None) -> None:
        """Set what that packet was answered (None: being handled), forgetting the oldest past the bound."""
        key = (creator_id, packet_id)
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.max_answers:
            self._answers.popitem(last=False)
