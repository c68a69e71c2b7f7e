from enum import StrEnum


class WebhookPublicScope(StrEnum):
    ALL = "all"
    OWN = "own"

    def __str__(self) -> str:
        return str(self.value)
