from enum import StrEnum


class StatusChangeStatus(StrEnum):
    CANCELLED = "cancelled"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    PAID = "paid"
    PLACED = "placed"
    SHIPPED = "shipped"

    def __str__(self) -> str:
        return str(self.value)
