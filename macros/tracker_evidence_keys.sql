{#- The run tag / param keys (lowercased) that name a run's SageMaker training job, and its instance
    type: the same lists as smcost.extractor.trackers (JOB_NAME_KEYS, INSTANCE_TYPE_KEYS; a test
    checks they agree), so what the extractor lets through is what the links read. -#}
{% macro tracker_job_name_keys() %}
    {{ return(['sagemaker.training_job_name', 'training_job_name', 'sagemaker_job_name', 'sagemaker.job_name']) }}
{% endmacro %}

{% macro tracker_instance_type_keys() %}
    {{ return(['sagemaker.instance_type', 'instance_type']) }}
{% endmacro %}
