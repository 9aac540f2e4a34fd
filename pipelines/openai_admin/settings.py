"""Constants of the OpenAI Admin API the source relies on.

They come from the official OpenAPI extract in simulator/spec/ and, where the spec is silent or
states them only in prose, from the API facts in simulator/spec/README.md.
"""

from .families import FAMILIES

DEFAULT_BASE_URL = "https://api.openai.com/v1"

BUCKET_SECONDS = {"1m": 60, "1h": 3600, "1d": 86400}

# `limit` counts buckets per page and its maximum depends on the width (stated in the spec's
# prose only). Always asking for the maximum gives the fewest requests; above it the API answers
# 400.
USAGE_MAX_LIMIT = {"1m": 1440, "1h": 168, "1d": 31}
COSTS_MAX_LIMIT = 180
LIST_MAX_LIMIT = 100

USAGE_PATH = "organization/usage/{family}"
COMPLETIONS_PATH = USAGE_PATH.format(family="completions")
COSTS_PATH = "organization/costs"
USERS_PATH = "organization/users"
PROJECTS_PATH = "organization/projects"
PROJECT_API_KEYS_PATH = "organization/projects/{project_id}/api_keys"
PROJECT_SERVICE_ACCOUNTS_PATH = "organization/projects/{project_id}/service_accounts"
PROJECT_USERS_PATH = "organization/projects/{project_id}/users"
ADMIN_API_KEYS_PATH = "organization/admin_api_keys"
INVITES_PATH = "organization/invites"
LEGACY_USAGE_PATH = "usage"
# Spend alerts and hard spend limits (in the spec since 2026-07): optional, an organization
# without the feature or a key without the scope is refused with 403/404.
SPEND_ALERTS_PATH = "organization/spend_alerts"
PROJECT_SPEND_ALERTS_PATH = "organization/projects/{project_id}/spend_alerts"
SPEND_LIMIT_PATH = "organization/spend_limit"
PROJECT_SPEND_LIMIT_PATH = "organization/projects/{project_id}/spend_limit"
# Alert pages: `limit` 0..100 (the schema allows 0, unlike the other lists).
SPEND_ALERTS_MAX_LIMIT = 100

# Endpoints an organization may not offer: a listing its key's role may not read (admin keys,
# invites, project members and service accounts), a usage family newer than the API it talks
# to (`optional` in families.py), or spend controls (an organization without the feature, a key
# without the scope). A refusal there (403, 404) leaves the table empty with a warning instead of
# failing the run (`client.unless_refused`). The others carry the spend and the names it is
# reported under (completions usage, costs, projects, users, project API keys, the older usage
# families): their refusal fails the run with what to do.
OPTIONAL_ENDPOINTS = frozenset(
    {
        INVITES_PATH,
        ADMIN_API_KEYS_PATH,
        PROJECT_SERVICE_ACCOUNTS_PATH,
        PROJECT_USERS_PATH,
        *(USAGE_PATH.format(family=family.name) for family in FAMILIES if family.optional),
        SPEND_ALERTS_PATH,
        PROJECT_SPEND_ALERTS_PATH,
        SPEND_LIMIT_PATH,
        PROJECT_SPEND_LIMIT_PATH,
    }
)
OPTIONAL_REFUSALS = frozenset({403, 404})


def is_optional_refusal(endpoint: str, status: int | None) -> bool:
    """Whether a refusal of `endpoint` (a path template above) with `status` is tolerated."""
    return endpoint in OPTIONAL_ENDPOINTS and status in OPTIONAL_REFUSALS


# Every dimension each usage endpoint can group by (its `group_by` enum in the spec): the finest
# grain it offers. Family -> group_by; each family loads into the raw table `<family>_usage`.
USAGE_GROUP_BY: dict[str, list[str]] = {family.name: family.group_by for family in FAMILIES}
COSTS_GROUP_BY = ["project_id", "line_item"]
# Per-key costs: line_item keeps `quantity` filled; api_key_id is in the spec from 2026-05, and an
# older API answers 400 to it, which skips the table instead of failing the load.
COSTS_BY_API_KEY_GROUP_BY = ["project_id", "line_item", "api_key_id"]

# A bucket is final once its UTC day has ended plus this grace (late events land for a while).
FINAL_GRACE_SECONDS = 6 * 3600

# One request budget shared by every endpoint of a source run (token bucket): as fast as the API
# allows without provoking bursts of 429s. The admin API's real limits are undocumented.
REQUESTS_PER_SECOND = 10.0
# No burst: an API whose own bucket allows the same rate keeps its burst as slack for network
# jitter; spending it at the start made the next requests arrive a hair early and draw a 429.
REQUEST_BURST = 1
# Per-project directory listings fetched at once (the request budget still sets the pace).
PROJECT_CONCURRENCY = 8

# After 429s the budget slows down (halving per 429), but never below this.
MIN_REQUESTS_PER_SECOND = 0.2

# The legacy endpoint allows about 5 requests a minute, as its clients report: one every 12 s.
LEGACY_MIN_INTERVAL_SECONDS = 12.0

# Retries: dlt's retrying session honours Retry-After and backs off exponentially on 429/5xx.
REQUEST_MAX_ATTEMPTS = 8
REQUEST_BACKOFF_FACTOR = 0.5
REQUEST_MAX_RETRY_DELAY = 120
REQUEST_TIMEOUT = 120

ADMIN_KEYS_URL = "https://platform.openai.com/settings/organization/admin-keys"
