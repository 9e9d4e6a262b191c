"""The platform: the warehouse and its roles, the dbt runner, the marts lock, the Airflow environment."""
