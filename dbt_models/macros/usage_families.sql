{#- The usage families that `int_usages__unioned` puts in one long shape: family name -> its
    staging model. A new family is its source entry, its staging model and one line here. -#}
{% macro usage_families() -%}
    {{ return({
        'completions': 'stg_openai__completion_usages',
        'embeddings': 'stg_openai__embedding_usages',
        'moderations': 'stg_openai__moderation_usages',
        'images': 'stg_openai__image_usages',
        'audio_speeches': 'stg_openai__audio_speech_usages',
        'audio_transcriptions': 'stg_openai__audio_transcription_usages',
        'vector_stores': 'stg_openai__vector_store_usages',
        'code_interpreter_sessions': 'stg_openai__code_interpreter_session_usages',
        'file_search_calls': 'stg_openai__file_search_call_usages',
        'web_search_calls': 'stg_openai__web_search_call_usages',
    }) }}
{%- endmacro %}
