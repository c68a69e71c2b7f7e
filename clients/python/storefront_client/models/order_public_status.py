from enum import StrEnum


class OrderPublicStatus(StrEnum):
    CANCELLED = "cancelled"
    PLACED = "placed"

    def __str__(self) -> str:
        return str(self.value)
