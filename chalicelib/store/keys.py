"""Every primary and index key of the single table is built here, and only here.

Layout (pk / sk, then the GSIs an item sits in):
    user            USER#<id>        / PROFILE     gsi1: USERS            / <created_at>#<id>
    e-mail claim    EMAIL#<email>    / CLAIM       (holds user_id; guarantees uniqueness)
    login attempts  LOGIN#<email>    / ATTEMPTS    (TTL; failed-login counter)
    product         PRODUCT#<id>     / PRODUCT     gsi1: PRODUCTS         / <created_at>#<id>
                                                   gsi2: OWNER#<owner_id> / <created_at>#<id>
    order           ORDER#<id>       / ORDER       gsi1: ORDERS#<user_id> / <created_at>#<id>
                                                   gsi3: ORDERSTATUS#<status>#<shard> / <payment_due_at>#<id>
    webhook receipt WEBHOOK#<webhook-id> / RECEIPT  (TTL 7 days; a delivery is applied once)
    idempotency     IDEMPOTENCY#<user_id>#<key> / RECORD   (TTL 24 h)
    session         SESSION#<user_id> / SESSION#<session_id>   (TTL: the refresh lifetime)
    refresh throttle LOGIN#REFRESH#<user_id>#<session_id> / ATTEMPTS (the login counter's shape)
    outbox event    OUTBOX#<subject> / EVENT      (TTL 7 d; the latest event of one resource)
    account token   ACCOUNT#address-<sha256(address)[:32]> / TOKEN#RESET | TOKEN#VERIFY
                                                   (TTL; one per address: digest + mail budget)
    webhook subscr. HOOK#<id>        / SUBSCRIPTION gsi1: HOOKS#<owner_id>  / <created_at>#<id>
                                                   gsi2: HOOKS            / <created_at>#<id>
    webhook count   HOOKCOUNT#<owner_id> / COUNT   (n: the owner's counted subscriptions,
                                                   at most services/webhooks.MAX_SUBSCRIPTIONS_PER_USER)
    webhook attempt HOOK#<id>        / DELIVERY#<time>#<event_id>#<attempt>   (TTL 7 days)
                                                   gsi1: DELIVERIES#<id>  / <time>#<event_id>#<attempt>
    delivery lane   HOOK#<id>        / LANE#<subject>   (TTL 7 days; busy, step, holder of one
                                                   (subscription, resource) delivery lane)
    lane entry      HOOK#<id>        / QUEUE#<subject>#<event time>#<event_id>   (TTL 7 days;
                                                   one event waiting in its lane, oldest first)

Orders by status (GSI3) are write-sharded: an order's shard is a hash of its id, one of
STATUS_SHARDS, so a burst of orders in one status spreads over that many index partitions
instead of one hot partition; a listing queries every shard and merges them by sort key
(store/pagination.merge_shards). The sort key is the order's payment deadline (placing time
+ the window), so each shard is oldest first, and the expiry sweep reads the due placed
orders as one key range per shard.

Sessions sit in a partition of their own per user: one strongly consistent Query lists a
user's sessions (logout-all, delete, password or role change), and the authorizer's IAM
policy can be limited to GetItem on keys that start with `SESSION#` (dynamodb:LeadingKeys),
so it can never read a user item (or its password hash).
"""

from __future__ import annotations

import hashlib
import zlib

Key = dict[str, str]

USERS_COLLECTION = "USERS"
PRODUCTS_COLLECTION = "PRODUCTS"


def recency_sort_key(created_at: str, item_id: str) -> str:
    """Sort key for "newest first" listings: the timestamp, then the id as tie-breaker."""
    return f"{created_at}#{item_id}"


def user_key(user_id: str) -> Key:
    """USER#<id> / PROFILE."""
    return {"pk": f"USER#{user_id}", "sk": "PROFILE"}


def user_index_keys(user_id: str, created_at: str) -> Key:
    """The USERS collection's index keys (newest first)."""
    return {"gsi1pk": USERS_COLLECTION, "gsi1sk": recency_sort_key(created_at, user_id)}


def email_claim_key(email: str) -> Key:
    """EMAIL#<address> / CLAIM: the item that makes an address unique."""
    return {"pk": f"EMAIL#{email}", "sk": "CLAIM"}


def login_attempts_key(email: str) -> Key:
    """LOGIN#<address> / ATTEMPTS: the address's login-attempt counter."""
    return {"pk": f"LOGIN#{email}", "sk": "ATTEMPTS"}


PRODUCT_PREFIX = "PRODUCT#"


def product_key(product_id: str) -> Key:
    """PRODUCT#<id> / PRODUCT."""
    return {"pk": f"{PRODUCT_PREFIX}{product_id}", "sk": "PRODUCT"}


def product_index_keys(product_id: str, owner_id: str, created_at: str) -> Key:
    """The index keys of a product: all products (GSI1) and its owner's (GSI2)."""
    sort = recency_sort_key(created_at, product_id)
    return {
        "gsi1pk": PRODUCTS_COLLECTION,
        "gsi1sk": sort,
        "gsi2pk": owner_partition(owner_id),
        "gsi2sk": sort,
    }


def owner_partition(owner_id: str) -> str:
    """The GSI2 partition of one owner's products."""
    return f"OWNER#{owner_id}"


def order_key(order_id: str) -> Key:
    """ORDER#<id> / ORDER."""
    return {"pk": f"ORDER#{order_id}", "sk": "ORDER"}


def order_index_keys(order_id: str, user_id: str, created_at: str) -> Key:
    """The index keys of an order: its user's orders (GSI1), newest first."""
    return {"gsi1pk": user_orders_partition(user_id), "gsi1sk": recency_sort_key(created_at, order_id)}


def user_orders_partition(user_id: str) -> str:
    """The GSI1 partition of one user's orders."""
    return f"ORDERS#{user_id}"


STATUS_SHARDS = 8


def status_shard(order_id: str) -> int:
    """The GSI3 shard of an order (stable: a hash of its id)."""
    return zlib.crc32(order_id.encode()) % STATUS_SHARDS


def status_partition(status: str, shard: int) -> str:
    """One GSI3 partition: the orders in `status` whose id hashes to `shard`."""
    return f"ORDERSTATUS#{status}#{shard}"


def order_status_keys(order_id: str, status: str, payment_due_at: str) -> Key:
    """The GSI3 keys of an order in `status`, ordered by its payment deadline."""
    return {
        "gsi3pk": status_partition(status, status_shard(order_id)),
        "gsi3sk": recency_sort_key(payment_due_at, order_id),
    }


def webhook_receipt_key(webhook_id: str) -> Key:
    """WEBHOOK#<webhook-id> / RECEIPT: a delivery that was applied (or is being)."""
    return {"pk": f"WEBHOOK#{webhook_id}", "sk": "RECEIPT"}


def idempotency_key(user_id: str, key: str) -> Key:
    """IDEMPOTENCY#<user>#<key> / RECORD."""
    return {"pk": f"IDEMPOTENCY#{user_id}#{key}", "sk": "RECORD"}


SESSION_PREFIX = "SESSION#"


def user_sessions_partition(user_id: str) -> str:
    """SESSION#<user_id>: the partition that holds all of one user's sessions."""
    return f"{SESSION_PREFIX}{user_id}"


def session_key(user_id: str, session_id: str) -> Key:
    """SESSION#<user_id> / SESSION#<session_id>."""
    return {"pk": user_sessions_partition(user_id), "sk": f"{SESSION_PREFIX}{session_id}"}


def refresh_attempts_subject(user_id: str, session_id: str) -> str:
    """What the failed-login counter counts refresh failures under (LOGIN#<subject>).

    Login subjects are lower-cased e-mail addresses; this one has upper-case letters,
    so the two can never name the same counter.
    """
    return f"REFRESH#{user_id}#{session_id}"


OUTBOX_PREFIX = "OUTBOX#"


def outbox_key(subject: str) -> Key:
    """OUTBOX#<subject> / EVENT: one item per resource, overwritten by each of its events,
    so the stream (ordered per item) delivers a resource's events in the order they happened."""
    return {"pk": f"{OUTBOX_PREFIX}{subject}", "sk": "EVENT"}


def account_token_key(purpose: str, subject: str) -> Key:
    """ACCOUNT#<subject> / TOKEN#<PURPOSE>: an address's current reset or verification token
    (its digest) and that purpose's mail budget; `subject` is account_address_subject(address)
    (docs/accounts.md). Items stored before that under a user id are never read again: TTL."""
    return {"pk": f"ACCOUNT#{subject}", "sk": f"TOKEN#{purpose.upper()}"}


def account_address_subject(email: str) -> str:
    """What names an address's account-token items: `address-` and 32 hex digits of SHA-256
    over the normalised address, registered or not (the table keeps no address that was only
    typed into a form; no user id has a `-`, so no item keyed by a user id can be one)."""
    return "address-" + address_digest(email)


def address_digest(email: str) -> str:
    """32 hex digits of SHA-256 over an address: how the table names an address it must not
    store in the clear (account tokens, the stand-in user of an unregistered address)."""
    return hashlib.sha256(email.encode()).hexdigest()[:32]


WEBHOOKS_COLLECTION = "HOOKS"


def webhook_key(webhook_id: str) -> Key:
    """HOOK#<id> / SUBSCRIPTION: a client's webhook subscription."""
    return {"pk": f"HOOK#{webhook_id}", "sk": "SUBSCRIPTION"}


def webhook_index_keys(webhook_id: str, owner_id: str, created_at: str) -> Key:
    """A subscription's index keys: its owner's (GSI1) and every subscription (GSI2, the
    delivery worker's fan-out reads it), newest first."""
    sort = recency_sort_key(created_at, webhook_id)
    return {
        "gsi1pk": owner_webhooks_partition(owner_id),
        "gsi1sk": sort,
        "gsi2pk": WEBHOOKS_COLLECTION,
        "gsi2sk": sort,
    }


def owner_webhooks_partition(owner_id: str) -> str:
    """The GSI1 partition of one user's subscriptions."""
    return f"HOOKS#{owner_id}"


def webhook_count_key(owner_id: str) -> Key:
    """HOOKCOUNT#<owner_id> / COUNT: how many subscriptions the owner has (its per-user limit)."""
    return {"pk": f"HOOKCOUNT#{owner_id}", "sk": "COUNT"}


def delivery_key(webhook_id: str, time: str, event_id: str, attempt: int) -> Key:
    """HOOK#<id> / DELIVERY#<time>#<event_id>#<attempt>: one delivery attempt."""
    return {"pk": f"HOOK#{webhook_id}", "sk": f"DELIVERY#{time}#{event_id}#{attempt:02d}"}


def delivery_index_keys(webhook_id: str, time: str, event_id: str, attempt: int) -> Key:
    """The GSI1 keys of an attempt: its subscription's attempts, newest first."""
    return {"gsi1pk": webhook_deliveries_partition(webhook_id), "gsi1sk": f"{time}#{event_id}#{attempt:02d}"}


def webhook_deliveries_partition(webhook_id: str) -> str:
    """The GSI1 partition of one subscription's delivery attempts."""
    return f"DELIVERIES#{webhook_id}"


LANE_PREFIX = "LANE#"
LANE_ENTRY_PREFIX = "QUEUE#"


def lane_key(webhook_id: str, subject: str) -> Key:
    """HOOK#<id> / LANE#<subject>: the delivery lane of one subscription and one resource."""
    return {"pk": f"HOOK#{webhook_id}", "sk": f"{LANE_PREFIX}{subject}"}


def lane_entries_prefix(subject: str) -> str:
    """The sort-key prefix of one lane's entries (`subject` holds no `#`: kind/id)."""
    return f"{LANE_ENTRY_PREFIX}{subject}#"


def lane_entry_key(webhook_id: str, subject: str, time: str, event_id: str) -> Key:
    """HOOK#<id> / QUEUE#<subject>#<time>#<event_id>: an event waiting in its lane. The sort
    key orders a lane by the resource's own order (the event's time, then its id), not by
    arrival; the event id makes a duplicate of the same event the same item."""
    return {"pk": f"HOOK#{webhook_id}", "sk": f"{lane_entries_prefix(subject)}{time}#{event_id}"}
