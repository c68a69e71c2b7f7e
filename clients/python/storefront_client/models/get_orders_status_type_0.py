from enum import StrEnum


class GetOrdersStatusType0(StrEnum):
    CANCELLED = "cancelled"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    PAID = "paid"
    PLACED = "placed"
    SHIPPED = "shipped"

    def __str__(self) -> str:
        return str(self.value)
