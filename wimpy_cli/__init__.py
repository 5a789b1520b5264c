"""The `wimpy` command. Nothing here imports the CDK at module level (see tests/test_startup.py)."""
