"""Wimpy's domain: what a wimpy.yml may say and means (wimpy_domain.config: the model, its
loader and reference table, the JSON Schema) and the names Wimpy gives what it makes
(wimpy_domain.naming). The command (cli) and the stacks (stacks) both build on it; it
imports neither, nor the CDK, boto3 or Docker."""
