{#- The latest version of each api key, deleted ones included (their last name still
    labels past spend). -#}
{{ newest_versions(ref('stg_openai__api_key_versions')) }}
