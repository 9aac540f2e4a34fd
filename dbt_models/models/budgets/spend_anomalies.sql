{#- Spend spikes per API key and per project: one row per (organization, scope, UTC day) whose
    billed spend is far above the scope's own trailing baseline, the days with spend among the
    `anomaly_baseline_days` days before it. Robust statistics (median and MAD, not mean and
    standard deviation) keep earlier spikes from hiding later ones. A day is flagged only when it
    passes every threshold (dbt_project.yml vars):
      - at least `anomaly_min_baseline_days` baseline days (new scopes have no baseline yet);
      - at least `anomaly_min_excess_usd` above the median: the floor, so tiny keys page no one;
      - at least `anomaly_min_factor` times the median;
      - at least `anomaly_min_robust_z` robust deviations (1.4826 x MAD, at least 5% of the
        median) above the median;
      - at least `anomaly_min_ratio_to_baseline_max` times the highest day of the baseline, so
        scopes that alternate a cheap and an expensive workload do not page on their usual
        expensive days. -#}

with

spend as (

    select
        organization,
        scope_type,
        scope_id,
        scope_name,
        usage_date,
        billed_cost_usd as spend_usd

    from {{ ref('int_spend_by_scope_daily') }}
    where scope_type in ('api_key', 'project') and billed_cost_usd > 0

),

windowed as (

    select
        spend.organization,
        spend.scope_type,
        spend.scope_id,
        spend.usage_date,
        baseline.spend_usd as baseline_spend_usd

    from spend
    inner join spend as baseline
        on
            spend.organization = baseline.organization
            and spend.scope_type = baseline.scope_type
            and spend.scope_id = baseline.scope_id
            and spend.usage_date > baseline.usage_date
            and baseline.usage_date >= cast(
                {{ dbt.dateadd('day', -var('anomaly_baseline_days'), 'spend.usage_date') }} as date
            )

),

medians as (

    select
        organization,
        scope_type,
        scope_id,
        usage_date,
        count(*) as baseline_days,
        max(baseline_spend_usd) as baseline_max_usd,
        {{ median('baseline_spend_usd') }} as baseline_median_usd

    from windowed
    group by 1, 2, 3, 4

),

deviations as (

    select
        medians.organization,
        medians.scope_type,
        medians.scope_id,
        medians.usage_date,
        {{ median('abs(windowed.baseline_spend_usd - medians.baseline_median_usd)') }}
            as baseline_mad_usd

    from medians
    inner join windowed
        on
            medians.organization = windowed.organization
            and medians.scope_type = windowed.scope_type
            and medians.scope_id = windowed.scope_id
            and medians.usage_date = windowed.usage_date
    group by 1, 2, 3, 4

),

scored as (

    select
        spend.organization,
        spend.scope_type,
        spend.scope_id,
        spend.scope_name,
        spend.usage_date,
        spend.spend_usd,
        medians.baseline_days,
        medians.baseline_median_usd,
        deviations.baseline_mad_usd,
        medians.baseline_max_usd,
        spend.spend_usd / medians.baseline_median_usd as spike_factor,
        (spend.spend_usd - medians.baseline_median_usd) / case
            when 1.4826 * deviations.baseline_mad_usd > 0.05 * medians.baseline_median_usd
                then 1.4826 * deviations.baseline_mad_usd
            else 0.05 * medians.baseline_median_usd
        end as robust_z

    from spend
    inner join medians
        on
            spend.organization = medians.organization
            and spend.scope_type = medians.scope_type
            and spend.scope_id = medians.scope_id
            and spend.usage_date = medians.usage_date
    inner join deviations
        on
            spend.organization = deviations.organization
            and spend.scope_type = deviations.scope_type
            and spend.scope_id = deviations.scope_id
            and spend.usage_date = deviations.usage_date
    where medians.baseline_median_usd > 0

),

final as (

    select
        organization,
        scope_type,
        scope_id,
        scope_name,
        usage_date,
        spend_usd,
        baseline_median_usd,
        baseline_mad_usd,
        baseline_max_usd,
        baseline_days,
        spike_factor,
        robust_z

    from scored
    where
        baseline_days >= {{ var('anomaly_min_baseline_days') }}
        and spend_usd - baseline_median_usd >= {{ var('anomaly_min_excess_usd') }}
        and spike_factor >= {{ var('anomaly_min_factor') }}
        and robust_z >= {{ var('anomaly_min_robust_z') }}
        and spend_usd >= {{ var('anomaly_min_ratio_to_baseline_max') }} * baseline_max_usd

)

select * from final
