"""Contains all the data models used in inputs/outputs"""

from .accepted_public import AcceptedPublic
from .admin_order_query import AdminOrderQuery
from .admin_order_query_status import AdminOrderQueryStatus
from .delivery_public import DeliveryPublic
from .error_body import ErrorBody
from .error_detail import ErrorDetail
from .get_admin_orders_status import GetAdminOrdersStatus
from .get_openapi_json_response_200 import GetOpenapiJsonResponse200
from .get_orders_status_type_0 import GetOrdersStatusType0
from .health_public import HealthPublic
from .order_create import OrderCreate
from .order_line import OrderLine
from .order_line_create import OrderLineCreate
from .order_public import OrderPublic
from .order_public_status import OrderPublicStatus
from .order_status_query import OrderStatusQuery
from .order_status_query_status_type_0 import OrderStatusQueryStatusType0
from .page_delivery_public import PageDeliveryPublic
from .page_order_public import PageOrderPublic
from .page_product_public import PageProductPublic
from .page_query import PageQuery
from .page_user_public import PageUserPublic
from .page_webhook_public import PageWebhookPublic
from .password_reset_confirm import PasswordResetConfirm
from .password_reset_request import PasswordResetRequest
from .payment_ack import PaymentAck
from .payment_ack_outcome import PaymentAckOutcome
from .payment_data import PaymentData
from .payment_data_currency import PaymentDataCurrency
from .payment_event import PaymentEvent
from .product_create import ProductCreate
from .product_create_currency import ProductCreateCurrency
from .product_list_query import ProductListQuery
from .product_public import ProductPublic
from .product_update import ProductUpdate
from .product_update_currency import ProductUpdateCurrency
from .ready_public import ReadyPublic
from .ready_public_checks import ReadyPublicChecks
from .refresh_request import RefreshRequest
from .shipment import Shipment
from .shipment_create import ShipmentCreate
from .status_change import StatusChange
from .status_change_status import StatusChangeStatus
from .token_public import TokenPublic
from .token_request import TokenRequest
from .user_create import UserCreate
from .user_public import UserPublic
from .user_public_role import UserPublicRole
from .user_update import UserUpdate
from .user_update_role import UserUpdateRole
from .verify_email_request import VerifyEmailRequest
from .webhook_create import WebhookCreate
from .webhook_create_events_item import WebhookCreateEventsItem
from .webhook_created import WebhookCreated
from .webhook_created_scope import WebhookCreatedScope
from .webhook_public import WebhookPublic
from .webhook_public_scope import WebhookPublicScope

__all__ = (
    "AcceptedPublic",
    "AdminOrderQuery",
    "AdminOrderQueryStatus",
    "DeliveryPublic",
    "ErrorBody",
    "ErrorDetail",
    "GetAdminOrdersStatus",
    "GetOpenapiJsonResponse200",
    "GetOrdersStatusType0",
    "HealthPublic",
    "OrderCreate",
    "OrderLine",
    "OrderLineCreate",
    "OrderPublic",
    "OrderPublicStatus",
    "OrderStatusQuery",
    "OrderStatusQueryStatusType0",
    "PageDeliveryPublic",
    "PageOrderPublic",
    "PageProductPublic",
    "PageQuery",
    "PageUserPublic",
    "PageWebhookPublic",
    "PasswordResetConfirm",
    "PasswordResetRequest",
    "PaymentAck",
    "PaymentAckOutcome",
    "PaymentData",
    "PaymentDataCurrency",
    "PaymentEvent",
    "ProductCreate",
    "ProductCreateCurrency",
    "ProductListQuery",
    "ProductPublic",
    "ProductUpdate",
    "ProductUpdateCurrency",
    "ReadyPublic",
    "ReadyPublicChecks",
    "RefreshRequest",
    "Shipment",
    "ShipmentCreate",
    "StatusChange",
    "StatusChangeStatus",
    "TokenPublic",
    "TokenRequest",
    "UserCreate",
    "UserPublic",
    "UserPublicRole",
    "UserUpdate",
    "UserUpdateRole",
    "VerifyEmailRequest",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookCreatedScope",
    "WebhookCreateEventsItem",
    "WebhookPublic",
    "WebhookPublicScope",
)
