{#- One row per organization, calendar month (UTC) and model: month-to-date totals of
    `cost_by_model_daily` and a linear month-end projection (macros/cost_by_month.sql). The
    data horizon `as_of_date` is the organization's last loaded day; a month that ends after it
    is in progress and is projected as (month to date / days elapsed) x days in month. Complete
    months project to their actual total. -#}

{{ cost_by_month(ref('cost_by_model_daily'), ['model']) }}
