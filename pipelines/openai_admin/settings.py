"""Constants of the OpenAI Admin API the source relies on (shared/reference/openai-admin-api.md)."""

DEFAULT_BASE_URL = "https://api.openai.com/v1"

BUCKET_SECONDS = {"1m": 60, "1h": 3600, "1d": 86400}

# `limit` counts buckets per page and its maximum depends on the width (§1.2). Always asking for
# the maximum gives the fewest requests; above it the API answers 400.
USAGE_MAX_LIMIT = {"1m": 1440, "1h": 168, "1d": 31}
COSTS_MAX_LIMIT = 180
LIST_MAX_LIMIT = 100

COMPLETIONS_PATH = "organization/usage/completions"
COSTS_PATH = "organization/costs"
USERS_PATH = "organization/users"
PROJECTS_PATH = "organization/projects"
PROJECT_API_KEYS_PATH = "organization/projects/{project_id}/api_keys"

# Every dimension the completions endpoint can group by: the finest grain the API offers.
COMPLETIONS_GROUP_BY = ["project_id", "user_id", "api_key_id", "model", "batch", "service_tier"]
COSTS_GROUP_BY = ["project_id", "line_item"]

# Retries: dlt's retrying session honours Retry-After and backs off exponentially on 429/5xx.
REQUEST_MAX_ATTEMPTS = 8
REQUEST_BACKOFF_FACTOR = 0.5
REQUEST_MAX_RETRY_DELAY = 120
REQUEST_TIMEOUT = 120

ADMIN_KEYS_URL = "https://platform.openai.com/settings/organization/admin-keys"
