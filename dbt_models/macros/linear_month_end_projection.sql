{#- The month-end projection of an amount spent so far in a month: once the month is complete
    (`days_elapsed` >= `days_in_month`) its actual total, else the spend per elapsed day times
    the days of the month. The latest day loaded counts as a whole day. The monthly cost marts
    and monthly budgets project with this one formula. -#}
{% macro linear_month_end_projection(amount, days_elapsed, days_in_month) -%}
    case
        when {{ days_elapsed }} >= {{ days_in_month }} then {{ amount }}
        else cast({{ amount }} as {{ type_double() }}) / {{ days_elapsed }} * {{ days_in_month }}
    end
{%- endmacro %}
