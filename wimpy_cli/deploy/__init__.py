"""Deploying: choosing the machine image, running the CDK CLI, and reading what
CloudFormation did (success, or a rollback and why)."""
