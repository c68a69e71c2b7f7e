"""Contains all the data models used in inputs/outputs"""

from .accepted_public import AcceptedPublic
from .error_body import ErrorBody
from .error_detail import ErrorDetail
from .get_openapi_json_response_200 import GetOpenapiJsonResponse200
from .health_public import HealthPublic
from .order_create import OrderCreate
from .order_line import OrderLine
from .order_line_create import OrderLineCreate
from .order_public import OrderPublic
from .order_public_status import OrderPublicStatus
from .page_order_public import PageOrderPublic
from .page_product_public import PageProductPublic
from .page_query import PageQuery
from .page_user_public import PageUserPublic
from .password_reset_confirm import PasswordResetConfirm
from .password_reset_request import PasswordResetRequest
from .product_create import ProductCreate
from .product_create_currency import ProductCreateCurrency
from .product_list_query import ProductListQuery
from .product_public import ProductPublic
from .product_update import ProductUpdate
from .product_update_currency_type_0 import ProductUpdateCurrencyType0
from .ready_public import ReadyPublic
from .ready_public_checks import ReadyPublicChecks
from .refresh_request import RefreshRequest
from .token_public import TokenPublic
from .token_request import TokenRequest
from .user_create import UserCreate
from .user_public import UserPublic
from .user_public_role import UserPublicRole
from .user_update import UserUpdate
from .user_update_role_type_0 import UserUpdateRoleType0
from .verify_email_request import VerifyEmailRequest

__all__ = (
    "AcceptedPublic",
    "ErrorBody",
    "ErrorDetail",
    "GetOpenapiJsonResponse200",
    "HealthPublic",
    "OrderCreate",
    "OrderLine",
    "OrderLineCreate",
    "OrderPublic",
    "OrderPublicStatus",
    "PageOrderPublic",
    "PageProductPublic",
    "PageQuery",
    "PageUserPublic",
    "PasswordResetConfirm",
    "PasswordResetRequest",
    "ProductCreate",
    "ProductCreateCurrency",
    "ProductListQuery",
    "ProductPublic",
    "ProductUpdate",
    "ProductUpdateCurrencyType0",
    "ReadyPublic",
    "ReadyPublicChecks",
    "RefreshRequest",
    "TokenPublic",
    "TokenRequest",
    "UserCreate",
    "UserPublic",
    "UserPublicRole",
    "UserUpdate",
    "UserUpdateRoleType0",
    "VerifyEmailRequest",
)
