from enum import StrEnum


class WebhookCreateEventsItem(StrEnum):
    ORDER_CANCELLED = "order.cancelled"
    ORDER_DELIVERED = "order.delivered"
    ORDER_EXPIRED = "order.expired"
    ORDER_PAID = "order.paid"
    ORDER_PLACED = "order.placed"
    ORDER_SHIPPED = "order.shipped"
    PRODUCT_CREATED = "product.created"
    PRODUCT_DELETED = "product.deleted"
    PRODUCT_UPDATED = "product.updated"
    USER_DELETED = "user.deleted"
    USER_REGISTERED = "user.registered"

    def __str__(self) -> str:
        return str(self.value)
