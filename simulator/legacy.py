"""The legacy, undocumented ``GET /v1/usage?date=YYYY-MM-DD`` (simulator/spec/README.md).

One UTC day per call, from the same activity as the organization endpoints: completions per
stream and hour in ``data``, images in ``dalle_api_data``, transcriptions in
``whisper_api_data``, speech in ``tts_api_data``. The other arrays are returned empty (their shape
is unknown). The 5 requests/minute limit is applied by the server.
"""

from __future__ import annotations

import datetime as dt

from simulator.activity import DAY, HOUR, derive
from simulator.org import Organization
from simulator.params import ApiError, Query


def _day(query: Query) -> int:
    raw = query.get("date", [None])[-1]
    if not raw:
        # The exact body a client reported in 2023.
        raise ApiError(400, "Missing query parameter 'date'", param=None, code=None)
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"Invalid date: '{raw}'. Use YYYY-MM-DD.", param="date") from None
    return (day - dt.date(1970, 1, 1)).days


def legacy_usage(org: Organization, query: Query, now: int) -> dict:
    """The ``/v1/usage`` body for one day, cut at ``now``."""
    day = _day(query)
    keys = {k.id: k for k in org.api_keys}
    projects = org.project_by_id

    def who(project_id: str, api_key_id: str | None) -> dict:
        key = keys.get(api_key_id or "")
        project = projects.get(project_id)
        return {
            "organization_id": org.id,
            "organization_name": "Simulated Org",
            "api_key_id": api_key_id,
            "api_key_name": key.name if key else None,
            "api_key_redacted": key.redacted_value if key else None,
            "api_key_type": "project",
            "project_id": project_id,
            "project_name": project.name if project else None,
        }

    data = []
    for hour in range(24):
        start = day * DAY + hour * HOUR
        if start >= now:
            break
        for idx, leaves in org.activity.slice(start, min(start + HOUR, now)):
            stream = org.activity.streams[idx]
            counts = derive(leaves)
            user = org.user_by_id.get(stream.user_id or "")
            data.append(
                {
                    **who(stream.project_id, stream.api_key_id),
                    "aggregation_timestamp": start,
                    "n_requests": counts["num_model_requests"],
                    "operation": "completion-batch" if stream.batch else "completion",
                    "snapshot_id": stream.model,
                    "n_context_tokens_total": counts["input_tokens"],
                    "n_generated_tokens_total": counts["output_tokens"],
                    "n_cached_context_tokens_total": counts["input_cached_tokens"],
                    "email": user.email if user else None,
                    "request_type": "",
                }
            )
    end = min((day + 1) * DAY, now)

    def family_items(name: str) -> list[tuple[dict, tuple]]:
        activity = org.families[name]
        dims = activity.family.dimensions
        out = []
        for idx, values in activity.slice(day * DAY, end):
            group = dict(zip(dims, activity.groups[idx].dims, strict=True))
            out.append((group, values))
        return out

    dalle = [
        {
            **who(g["project_id"], g["api_key_id"]),
            "timestamp": day * DAY,
            "num_images": v[1],
            "num_requests": v[0],
            "image_size": g["size"],
            "operation": g["source"].removeprefix("image.") + "s",
            "user_id": g["user_id"],
            "model_id": g["model"],
        }
        for g, v in family_items("images")
    ]
    whisper = [
        {
            **who(g["project_id"], g["api_key_id"]),
            "timestamp": day * DAY,
            "model_id": g["model"],
            "num_seconds": v[1],
            "num_requests": v[0],
            "user_id": g["user_id"],
        }
        for g, v in family_items("audio_transcriptions")
    ]
    tts = [
        {
            **who(g["project_id"], g["api_key_id"]),
            "timestamp": day * DAY,
            "model_id": g["model"],
            "num_characters": v[1],
            "num_requests": v[0],
            "user_id": g["user_id"],
        }
        for g, v in family_items("audio_speeches")
    ]
    return {
        "object": "list",
        "data": data,
        "ft_data": [],
        "dalle_api_data": dalle,
        "whisper_api_data": whisper,
        "tts_api_data": tts,
        "assistant_code_interpreter_data": [],
        "retrieval_storage_data": [],
    }
