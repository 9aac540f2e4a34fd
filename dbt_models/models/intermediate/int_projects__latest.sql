{#- The latest version of each project, deleted ones included (their last name still
    labels past spend). -#}
{{ newest_versions(ref('stg_openai__project_versions')) }}
