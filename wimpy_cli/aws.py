"""boto3 sessions from the standard AWS chain (profiles, environment, SSO), with the
failures a user can fix turned into one clear message."""

from __future__ import annotations

from typing import Any, Mapping

from wimpy_cli.errors import ExitCode, WimpyError

NO_CREDENTIALS_HINT = ("Configure credentials the usual AWS way (aws configure, aws sso login, "
                       "AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or add --local "
                       "to run against Wimpy's embedded AWS emulator instead.")


def session(region: str, environment: Mapping[str, str] | None = None) -> Any:
    """A boto3 session for `region`. `environment` (from the local target) points it at
    the emulator; otherwise the standard chain applies."""
    import boto3

    if environment:
        return boto3.session.Session(
            aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
            region_name=region)
    return boto3.session.Session(region_name=region)


def client(aws_session: Any, service: str, environment: Mapping[str, str] | None = None) -> Any:
    endpoint = (environment or {}).get("AWS_ENDPOINT_URL")
    return aws_session.client(service, endpoint_url=endpoint) if endpoint else aws_session.client(service)


def check_identity(aws_session: Any, account: str, environment: Mapping[str, str] | None = None) -> None:
    """Fail before anything is deployed when there are no usable credentials, or they
    belong to another account than wimpy.yml's account.id."""
    import botocore.exceptions

    try:
        identity = client(aws_session, "sts", environment).get_caller_identity()
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError):
        raise WimpyError("no AWS credentials were found.", code=ExitCode.FAILED,
                         hint=NO_CREDENTIALS_HINT) from None
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                    "SignatureDoesNotMatch", "UnrecognizedClientException"}:
            raise WimpyError(f"AWS refused the credentials ({code}); they may have expired.",
                             hint=NO_CREDENTIALS_HINT) from None
        raise
    # Anything else (a profile that does not exist, an endpoint that does not answer) is
    # described by wimpy_cli/reporting.py, like the same failure of any later call.
    if identity["Account"] != account:
        raise WimpyError(
            f"your credentials are for account {identity['Account']}, but wimpy.yml's "
            f"account.id is {account}; nothing was deployed.",
            hint="Switch profile (AWS_PROFILE) or correct account.id.")


def parameter_value(ssm: Any, name: str) -> str | None:
    """An SSM parameter's value, or None when there is no such parameter."""
    try:
        return ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
