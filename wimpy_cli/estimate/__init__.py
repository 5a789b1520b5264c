"""Numbers a user can compare before deploying: how long a deploy takes on AWS
(deploy_time.py, with the peers' published defaults in peers.py) and what the stacks cost
per month (cost.py, with the price table prices.json).

Both are pure functions of synthesized CloudFormation templates (plain dicts) plus stated
assumptions: they import nothing of the CDK and make no AWS call.
"""
