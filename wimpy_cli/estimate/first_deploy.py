"""How long the first deploy of a new application takes on AWS, stack by stack, from the
synthesized templates of every stack it creates plus stated assumptions.

`wimpy deploy` has the CDK CLI create the stacks one after another, in dependency order
(the baseline, the registry, the network, the data and resources stacks, then the
application's), so the deploy's time is the sum of the stacks'. Within a stack,
CloudFormation creates every resource as soon as those it refers to exist (Ref, GetAtt,
Sub and DependsOn), so a stack's time is its longest chain of resources, each taking its
type's creation time. Those times are assumptions (AWS publishes none): each type's is in
CREATION_SECONDS with why; an Auto Scaling group that waits for signals takes an
instance's launch-to-healthy time from deploy_time.Assumptions. Nothing here calls AWS or
imports the CDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

from wimpy_cli.estimate.deploy_time import Assumptions, Phase, _s

# Seconds CloudFormation takes to create a resource of each type, from its request until
# the next resource may use it. Assumed, from typical stack events; override none of
# them per run, but read each line's reason.
CREATION_SECONDS: Mapping[str, tuple[float, str]] = {
    # AWS: "It can take a few minutes for a NAT gateway to become available".
    "AWS::EC2::NatGateway": (120, "NAT gateway until available"),
    # A NAT instance: CloudFormation waits for it to be running, not for its boot.
    "AWS::EC2::Instance": (30, "instance until running"),
    # DNS-validated: the validation record is in the hosted zone the template names, and
    # ACM checks it every few minutes.
    "AWS::CertificateManager::Certificate": (180, "DNS-validated certificate until issued"),
    # CloudFormation waits for the instance profile to propagate through IAM.
    "AWS::IAM::InstanceProfile": (120, "instance profile propagation"),
    "AWS::IAM::Role": (15, "role"),
    "AWS::IAM::Policy": (15, "policy"),
    "AWS::KMS::Key": (60, "KMS key"),
    "AWS::CloudTrail::Trail": (30, "trail"),
    "AWS::S3::Bucket": (20, "bucket"),
    "AWS::S3::BucketPolicy": (5, "bucket policy"),
    "AWS::EC2::VPC": (15, "VPC"),
    "AWS::EC2::InternetGateway": (15, "internet gateway"),
    "AWS::EC2::VPCGatewayAttachment": (15, "gateway attachment"),
    "AWS::EC2::Subnet": (5, "subnet"),
    "AWS::EC2::EIP": (5, "address"),
    "AWS::EC2::FlowLog": (10, "flow log"),
    "AWS::EC2::LaunchTemplate": (5, "launch template"),
    # Route 53 answers a change once it is INSYNC on every authoritative server: about a
    # minute (CloudFormation waits for it).
    "AWS::Route53::RecordSet": (60, "DNS record until INSYNC"),
    "AWS::Lambda::Function": (20, "function"),
}
DEFAULT_CREATION = (5, "resource")
# The load balancer's own creation is deploy_time.Assumptions.load_balancer_seconds.
LOAD_BALANCER_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
GROUP_TYPE = "AWS::AutoScaling::AutoScalingGroup"


@dataclass(frozen=True)
class StackEstimate:
    stack: str
    seconds: float
    chain: tuple[str, ...]  # the longest chain, first resource first: "logical id (what, time)"
    # The instances' chain when it is not the longest: the group waits for them too.
    instances: tuple[str, ...] = ()

    @property
    def formula(self) -> str:
        text = " -> ".join(self.chain)
        return text + (f"; beside it {' -> '.join(self.instances)}" if self.instances else "")


@dataclass(frozen=True)
class FirstDeployEstimate:
    stacks: tuple[StackEstimate, ...]
    build_seconds: float
    assumptions: Assumptions

    @property
    def phases(self) -> tuple[Phase, ...]:
        build = Phase("image build and push", self.build_seconds,
                      f"{_s(self.build_seconds)} assumed (--build-seconds)")
        return (build, *(Phase(s.stack, s.seconds, s.formula) for s in self.stacks))

    @property
    def expected_seconds(self) -> float:
        return sum(phase.seconds for phase in self.phases)

    def to_dict(self) -> dict[str, Any]:
        return {"phases": [{"name": p.name, "seconds": p.seconds, "formula": p.formula}
                           for p in self.phases],
                "expected_seconds": self.expected_seconds}


def estimate_first_deploy(templates: Mapping[str, Mapping[str, Any]], order: Sequence[str], *,
                          assumptions: Assumptions = Assumptions(),
                          build_seconds: float = 60) -> FirstDeployEstimate:
    """Every stack of `order` (the order the deploy creates them) created from nothing."""
    missing = [name for name in order if name not in templates]
    if missing:
        raise ValueError(f"no template for {', '.join(missing)}")
    return FirstDeployEstimate(
        stacks=tuple(_stack(name, templates[name], assumptions) for name in order),
        build_seconds=build_seconds, assumptions=assumptions)


def _stack(name: str, template: Mapping[str, Any], a: Assumptions) -> StackEstimate:
    resources: Mapping[str, Any] = template.get("Resources", {})
    finished: dict[str, tuple[float, tuple[str, ...]]] = {}

    def finish(logical_id: str, seen: tuple[str, ...] = ()) -> tuple[float, tuple[str, ...]]:
        if logical_id in finished:
            return finished[logical_id]
        if logical_id in seen:  # CloudFormation refuses a cycle; do not recurse forever
            return 0.0, ()
        resource = resources[logical_id]
        before = [finish(dep, (*seen, logical_id)) for dep in sorted(_dependencies(resource, resources))]
        start, chain = max(before, default=(0.0, ()))
        seconds, what = _creation(resource, a)
        finished[logical_id] = (start + seconds, (*chain, f"{logical_id} ({what}, {_s(seconds)})"))
        return finished[logical_id]

    longest = max((finish(logical_id) for logical_id in resources), default=(0.0, ()))
    groups = [finish(logical_id) for logical_id, resource in resources.items()
              if resource.get("Type") == GROUP_TYPE]
    instances = max(groups, default=(0.0, ()))
    return StackEstimate(stack=name, seconds=longest[0], chain=_slowest(longest[1]),
                         instances=() if instances == longest else _slowest(instances[1], keep=2))


def _creation(resource: Mapping[str, Any], a: Assumptions) -> tuple[float, str]:
    kind = resource.get("Type", "")
    if kind == LOAD_BALANCER_TYPE:
        return a.load_balancer_seconds, "load balancer, --load-balancer-seconds"
    signal = resource.get("CreationPolicy", {}).get("ResourceSignal")
    if kind == GROUP_TYPE and signal:
        count = signal.get("Count", 1)
        return (a.instance_ready_seconds,
                f"{count} instance{'s' if count != 1 else ''} booted in parallel until they signal")
    if kind.startswith("Custom::"):
        return 20, "custom resource"
    return CREATION_SECONDS.get(kind, DEFAULT_CREATION)


def _slowest(chain: tuple[str, ...], keep: int = 3) -> tuple[str, ...]:
    """The chain's links that take longest, in chain order: the rest are a few seconds."""
    def seconds(link: str) -> float:
        return float(link.rsplit(", ", 1)[1].removesuffix(" s)"))
    kept = set(sorted(chain, key=seconds, reverse=True)[:keep])
    return tuple(link for link in chain if link in kept)


def _dependencies(resource: Mapping[str, Any], resources: Mapping[str, Any]) -> set[str]:
    depends = resource.get("DependsOn", [])
    found = {depends} if isinstance(depends, str) else set(depends)
    for name in _references(resource.get("Properties", {})):
        if name in resources:
            found.add(name)
    return found


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                yield target
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                for part in str(text).split("${")[1:]:
                    yield part.split("}")[0].split(".")[0]
                if isinstance(inner, list) and len(inner) > 1:
                    yield from _references(inner[1])
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)
