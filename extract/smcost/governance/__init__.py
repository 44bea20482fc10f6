"""Tag governance: the pre-deployment check (`smcost tags check`) and the guardrail templates
(`smcost tags render-guardrails`), both driven by the tag-key configuration dbt uses (var
`tag_keys` in dbt_project.yml, seeds/tag_key_aliases.csv, seeds/tag_allowed_values.csv).

- `tagconfig`: that configuration, and the one key/value normalisation rule (the SQL macros'
  rule, in Python).
- `sagemaker_api`: what botocore's SageMaker service model says (which Create* operations take
  Tags, their request shapes), and which of them the guardrails require tags on, and why.
- `documents`: reading create requests, Pipelines definitions and CloudFormation templates into
  the resources they would create, with their tags as far as they can be known before deployment.
- `check`: the findings for each resource, and the text/JSON/JUnit reports.
- `guardrails`: the SCPs, tag policy, AWS Config rule and project templates under governance/.
- `iam_eval`: a small evaluator of the SCPs' conditions, for the tests and for a dry run.
"""
