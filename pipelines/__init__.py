"""dlt sources: the OpenAI Admin API and the model price table. No Dagster, no dbt in here."""
