{# The warehouse's schemas are named as they are (sales, raw), not prefixed with the target's schema. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
