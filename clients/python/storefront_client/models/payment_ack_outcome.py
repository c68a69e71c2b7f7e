from enum import StrEnum


class PaymentAckOutcome(StrEnum):
    ALREADY_PAID = "already_paid"
    DUPLICATE = "duplicate"
    PAID = "paid"
    REFUND_DUE = "refund_due"

    def __str__(self) -> str:
        return str(self.value)
