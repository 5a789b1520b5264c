"""AWS::CertificateManager::Certificate for the emulator, which has ACM but no
CloudFormation support for it: the certificate is requested from moto's ACM and its ARN
is the resource's id, so an HTTPS listener can refer to it. Validation is not acted out
(moto issues certificates at once)."""

from __future__ import annotations

from typing import Any


def _resource_of_type(type_name: str) -> type:
    """What a CloudFormation resource of moto's needs besides creating, updating and
    deleting: a type, no name property, no attributes, created at once."""
    from moto.core.common_models import CloudFormationModel

    class Resource(CloudFormationModel):
        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return type_name

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return False

        def is_created(self) -> bool:
            return True

    return Resource


def certificate_model() -> type:
    from moto.acm.models import acm_backends

    class LocalCertificate(_resource_of_type("AWS::CertificateManager::Certificate")):
        def __init__(self, arn: str):
            self.arn = arn

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> Any:
            properties = cloudformation_json["Properties"]
            arn = acm_backends[account_id][region_name].request_certificate(
                domain_name=properties["DomainName"], idempotency_token=None,
                subject_alt_names=properties.get("SubjectAlternativeNames") or [], tags=[])
            return cls(arn)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> Any:
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                       account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str) -> None:
            return None

    return LocalCertificate


def listener_certificate_model() -> type:
    """AWS::ElasticLoadBalancingV2::ListenerCertificate (moto has the API, not the resource):
    the certificates are added to the listener, which then lists them beside its default
    one, and removed with the resource, as an application on a shared load balancer adds
    and removes its own."""
    from moto.elbv2.models import elbv2_backends

    class LocalListenerCertificate(_resource_of_type("AWS::ElasticLoadBalancingV2::ListenerCertificate")):
        def __init__(self, listener_arn: str, certificates: list[dict[str, Any]], backend: Any):
            self.listener_arn, self.certificates, self.backend = listener_arn, certificates, backend

        @property
        def physical_resource_id(self) -> str:
            return self.listener_arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> Any:
            properties = cloudformation_json["Properties"]
            backend = elbv2_backends[account_id][region_name]
            certificates = [{"CertificateArn": c["CertificateArn"]} for c in properties["Certificates"]]
            backend.add_listener_certificates(properties["ListenerArn"], certificates)
            return cls(properties["ListenerArn"], certificates, backend)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> Any:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                       account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str) -> None:
            properties = cloudformation_json["Properties"]
            cls(properties["ListenerArn"], [{"CertificateArn": c["CertificateArn"]}
                                            for c in properties["Certificates"]],
                elbv2_backends[account_id][region_name]).delete(account_id, region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            try:
                self.backend.remove_listener_certificates(self.listener_arn, self.certificates)
            except Exception:  # the listener went first (its load balancer deleted): nothing to remove
                pass

    return LocalListenerCertificate
