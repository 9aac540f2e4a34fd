{#- The latest version of each user, deleted ones included (their last name still
    labels past spend). -#}
{{ newest_versions(ref('stg_openai__user_versions')) }}
