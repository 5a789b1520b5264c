"""What the synthesized stacks cost per month: a pure function of the templates, the price
table (prices.json: on-demand list prices, dated, for one region) and stated assumptions.

Counts come from the templates (NAT gateways or instances, Elastic IPs, load balancers and the
subnets they sit in, the Auto Scaling group's MinSize and its launch template's instance
type and root volume, KMS keys, trails, log groups and their retention, flow logs, alarms,
record sets and hosted zones, the ECR lifecycle rule). What no template can say (traffic,
log volume, DNS clients, stored data) is an assumption with a stated default; every line
says which of its figures is assumed.

Instances are counted at MinSize, the floor scaling never goes below; scaling out adds
(instances - MinSize) x the hourly price while it lasts.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from wimpy_cli.errors import ExitCode, WimpyError
from wimpy_cli.estimate.deploy_time import serving

PRICES_FILE = Path(__file__).with_name("prices.json")
SECONDS_PER_HOUR = 3600
DAYS_PER_MONTH = 365 / 12

REQUIRED_PRICES = (
    "nat_gateway_per_hour", "nat_gateway_per_gb", "public_ipv4_per_hour", "alb_per_hour",
    "alb_lcu_per_hour", "ebs_gp3_per_gb_month", "kms_key_per_month", "kms_per_10k_requests",
    "cloudtrail_first_trail", "cloudtrail_per_100k_events", "cloudwatch_logs_ingest_per_gb",
    "cloudwatch_logs_storage_per_gb_month", "cloudwatch_metric_per_month",
    "cloudwatch_alarm_per_month", "s3_standard_per_gb_month", "route53_zone_per_month",
    "route53_per_million_queries", "route53_per_million_queries_over_billion",
    "ecr_per_gb_month", "vended_logs_to_s3_per_gb",
)


@dataclass(frozen=True)
class PriceTable:
    region: str
    currency: str
    as_of: str
    source: str
    hours_per_month: float
    prices: Mapping[str, float]
    instances_per_hour: Mapping[str, float]
    path: str
    # Lines the table marks "verified": false, as "prices.<key>" and
    # "instances_per_hour.<type>": figures no source was found to confirm.
    unverified: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> float:
        return self.prices[key]

    def instance(self, instance_type: str) -> float:
        try:
            return self.instances_per_hour[instance_type]
        except KeyError:
            raise WimpyError(
                f"the price table has no price for instance type {instance_type!r} "
                f"({self.region}, {self.as_of}); it knows {', '.join(sorted(self.instances_per_hour))}",
                hint=f"Add its on-demand Linux price per hour in {self.region} under "
                     f"\"instances_per_hour\" in {self.path}.") from None

    def volume(self, volume_type: str) -> float:
        key = f"ebs_{volume_type}_per_gb_month"
        if key not in self.prices:
            raise WimpyError(f"the price table has no price for EBS volume type "
                             f"{volume_type!r}", hint=f"Add \"{key}\" under \"prices\" in {self.path}.")
        return self.prices[key]


def load_prices(path: Path = PRICES_FILE) -> PriceTable:
    """The price table; WimpyError naming the file and the key if it is unreadable or
    incomplete. Each line under "prices" and "instances_per_hour" is an object: "usd"
    (the figure), "source" (where it was read) and "verified" (whether that source
    confirmed it); the lines marked false are listed in PriceTable.unverified."""
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise WimpyError(f"cannot read the price table {path}: {error}") from None
    problems = [key for key in ("region", "currency", "as_of", "source", "hours_per_month",
                                "prices", "instances_per_hour") if key not in document]
    if problems:
        raise WimpyError(f"the price table {path} lacks {', '.join(problems)}")
    unverified: list[str] = []

    def line(section: str, key: str, entry: Any) -> float:
        where = f"{section}.{key}"
        hint = (f"Write each line of {path} as {{\"usd\": <{document['currency']}>, \"source\": "
                "\"<where the figure was read>\", \"verified\": true or false}.")
        if not isinstance(entry, Mapping):
            raise WimpyError(f"the price table {path}: {where} must be an object with \"usd\", "
                             f"\"source\" and \"verified\", got {entry!r}", hint=hint)
        value = entry.get("usd")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise WimpyError(f"the price table {path}: {where} must be a number of "
                             f"{document['currency']} (0 or more), got {value!r}", hint=hint)
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            raise WimpyError(f"the price table {path}: {where} has no \"source\" (where the "
                             f"figure was read), got {source!r}", hint=hint)
        verified = entry.get("verified")
        if not isinstance(verified, bool):
            raise WimpyError(f"the price table {path}: {where} needs \"verified\": true or false "
                             f"(whether the source confirmed the figure), got {verified!r}",
                             hint=hint)
        if not verified:
            unverified.append(where)
        return float(value)

    prices = {key: line("prices", key, entry) for key, entry in document["prices"].items()}
    missing = [key for key in REQUIRED_PRICES if key not in prices]
    if missing:
        raise WimpyError(f"the price table {path} has no {', '.join(missing)} under \"prices\"")
    instances = {name: line("instances_per_hour", name, entry)
                 for name, entry in document["instances_per_hour"].items()}
    return PriceTable(region=document["region"], currency=document["currency"],
                      as_of=document["as_of"], source=document["source"],
                      hours_per_month=float(document["hours_per_month"]), prices=prices,
                      instances_per_hour=instances, path=str(path), unverified=tuple(unverified))


@dataclass(frozen=True)
class CostAssumptions:
    """What templates cannot say. Each default is a guess for a small web application;
    the output marks every line that uses one."""

    # GB a month through an environment's NAT gateways (image pulls from ECR, package
    # installs, SSM/CloudWatch/CloudFormation calls: no VPC endpoints are created).
    nat_gb_per_month: float = 20
    # Average LCUs per load balancer (one LCU: 25 new connections/s, 3,000 active, 1 GB/h
    # for EC2 targets, 1,000 rule evaluations/s); a small site uses a fraction of one.
    alb_lcus: float = 0.5
    # Management events CloudTrail writes a month, in GB (to S3 and to CloudWatch Logs).
    cloudtrail_gb_per_month: float = 1
    # Events a month, for trails beyond the first (which are charged per event).
    cloudtrail_events_per_month: float = 200_000
    # S3 keeps trail logs (the log bucket has no expiry for current objects): a year's.
    cloudtrail_months_kept: float = 12
    # Requests a month per KMS key (S3 SSE-KMS, encrypted log groups, SSM, the trail).
    kms_requests_per_month: float = 100_000
    # GB a month each application log group ingests.
    app_log_gb_per_month: float = 2
    # GB a month of VPC flow logs (all traffic) per flow log.
    flow_log_gb_per_month: float = 5
    # Caching DNS resolvers asking for each name, each once per TTL (queries to alias
    # records pointing at a load balancer are free, whatever this is).
    dns_resolvers: float = 1_000
    # GB kept in the account's S3 buckets besides trail logs (storage bucket, ALB logs).
    s3_gb: float = 10
    # GB of unique layers per image the ECR lifecycle rule keeps.
    image_gb: float = 0.1
    # Metrics detailed monitoring publishes per instance (AWS's pricing example: 7).
    detailed_monitoring_metrics: float = 7
    # Blue/green deploys a month, each paying for a second ALB and set of instances while
    # both releases run.
    deploys_per_month: float = 20

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 0:
                raise WimpyError(f"the cost assumption {name} must be 0 or more, got {value}",
                                 code=ExitCode.USAGE)


@dataclass(frozen=True)
class CostLine:
    item: str
    monthly: float
    formula: str
    assumed: bool = False  # uses an assumption, not only counts from the templates


@dataclass(frozen=True)
class Overlap:
    """The extra cost of a blue/green deploy's overlap window in one environment."""

    environment: str
    expected_seconds: float
    worst_seconds: float
    per_hour: float
    per_deploy: float
    per_deploy_worst: float
    per_month: float
    formula: str


@dataclass(frozen=True)
class CostEstimate:
    groups: Mapping[str, tuple[CostLine, ...]]
    overlaps: tuple[Overlap, ...]
    prices: PriceTable
    assumptions: CostAssumptions
    notes: tuple[str, ...] = ()
    # What each choice in wimpy.yml costs a month, one unit at a time (choice_lines).
    choices: tuple[CostLine, ...] = ()

    def total(self, group: str) -> float:
        return sum(line.monthly for line in self.groups[group])

    @property
    def grand_total(self) -> float:
        return sum(self.total(group) for group in self.groups)

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.prices.currency,
            "region": self.prices.region,
            "prices_as_of": self.prices.as_of,
            "price_table": self.prices.path,
            "groups": {group: {"monthly": round(self.total(group), 2),
                               "lines": [{**asdict(line), "monthly": round(line.monthly, 4)}
                                         for line in lines]}
                       for group, lines in self.groups.items()},
            "monthly_total": round(self.grand_total, 2),
            "blue_green_overlap": [asdict(overlap) for overlap in self.overlaps],
            "choices": [asdict(line) for line in self.choices],
            "assumptions": asdict(self.assumptions),
            "notes": list(self.notes),
        }


# -- reading templates ---------------------------------------------------------------

def _resources(templates: Iterable[Mapping[str, Any]], type_: str) -> list[tuple[str, Mapping[str, Any]]]:
    found = []
    for template in templates:
        for name, resource in (template.get("Resources") or {}).items():
            if isinstance(resource, Mapping) and resource.get("Type") == type_:
                found.append((name, resource))
    return found


def _props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return resource.get("Properties") or {}


def _int(value: Any, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WimpyError(f"{what} is {value!r}; the cost estimate needs a literal number "
                         "there") from None


def _ref(value: Any) -> str | None:
    """The logical id a Ref or Fn::GetAtt points at."""
    if isinstance(value, Mapping):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else str(target).split(".")[0]
    return None


def _usd(value: float) -> str:
    """A unit price as the table has it: $0.048, $0.0252, $1.00, $0.50."""
    if round(value, 2) == value:
        return f"${value:,.2f}"
    return "$" + f"{value:.6f}".rstrip("0")


def _n(value: float) -> str:
    return f"{value:,g}"


@dataclass
class _Lines:
    prices: PriceTable
    lines: list[CostLine] = field(default_factory=list)

    def add(self, item: str, monthly: float, formula: str, *, assumed: bool = False) -> None:
        self.lines.append(CostLine(item, monthly, formula, assumed))


def _group_lines(templates: list[Mapping[str, Any]], p: PriceTable, a: CostAssumptions,
                 every: list[Mapping[str, Any]] | None = None) -> list[CostLine]:
    """The lines of one group's `templates`; `every` template of the estimate is where a
    bucket another group's resources write to is found (its lifecycle rules)."""
    h = p.hours_per_month
    out = _Lines(p)

    nats = _resources(templates, "AWS::EC2::NatGateway")
    if nats:
        out.add("NAT gateways", len(nats) * p["nat_gateway_per_hour"] * h,
                f"{len(nats)} x {_usd(p['nat_gateway_per_hour'])}/h x {h:g} h")
        out.add("NAT data processed", a.nat_gb_per_month * p["nat_gateway_per_gb"],
                f"{_n(a.nat_gb_per_month)} GB assumed x {_usd(p['nat_gateway_per_gb'])}/GB",
                assumed=True)
    eips = _resources(templates, "AWS::EC2::EIP")
    if eips:
        out.add("Elastic IP addresses (NAT)", len(eips) * p["public_ipv4_per_hour"] * h,
                f"{len(eips)} x {_usd(p['public_ipv4_per_hour'])}/h x {h:g} h")
    out.lines += _nat_instance_lines(templates, p)

    albs = [(name, r) for name, r in _resources(templates, "AWS::ElasticLoadBalancingV2::LoadBalancer")
            if _props(r).get("Type", "application") == "application"]
    if albs:
        out.add("Application Load Balancers", len(albs) * p["alb_per_hour"] * h,
                f"{len(albs)} x {_usd(p['alb_per_hour'])}/h x {h:g} h")
        out.add("Load balancer capacity units", len(albs) * a.alb_lcus * p["alb_lcu_per_hour"] * h,
                f"{len(albs)} x {_n(a.alb_lcus)} LCU assumed x {_usd(p['alb_lcu_per_hour'])}/LCU-h "
                f"x {h:g} h", assumed=True)
        addresses = sum(len(_props(r).get("Subnets") or []) or 1 for _, r in albs
                        if _props(r).get("Scheme", "internet-facing") == "internet-facing")
        if addresses:
            out.add("Load balancer public IPv4 addresses", addresses * p["public_ipv4_per_hour"] * h,
                    f"{addresses} (one per subnet; more if it scales) x "
                    f"{_usd(p['public_ipv4_per_hour'])}/h x {h:g} h")

    launch_templates = dict(_resources(templates, "AWS::EC2::LaunchTemplate"))
    for name, group in _resources(templates, "AWS::AutoScaling::AutoScalingGroup"):
        for line in _instance_lines(name, group, launch_templates, p, a):
            out.lines.append(line)

    keys = _resources(templates, "AWS::KMS::Key")
    if keys:
        out.add("KMS keys", len(keys) * p["kms_key_per_month"],
                f"{len(keys)} x {_usd(p['kms_key_per_month'])}/month")
        requests = len(keys) * a.kms_requests_per_month
        out.add("KMS requests", requests / 10_000 * p["kms_per_10k_requests"],
                f"{len(keys)} x {_n(a.kms_requests_per_month)} requests assumed x "
                f"{_usd(p['kms_per_10k_requests'])}/10k", assumed=True)

    trails = _resources(templates, "AWS::CloudTrail::Trail")
    if trails:
        out.add("CloudTrail trail (management events)", p["cloudtrail_first_trail"],
                "the first trail's copy of management events is free")
        if len(trails) > 1:
            extra = len(trails) - 1
            out.add("Additional trails", extra * a.cloudtrail_events_per_month / 100_000
                    * p["cloudtrail_per_100k_events"],
                    f"{extra} x {_n(a.cloudtrail_events_per_month)} events assumed x "
                    f"{_usd(p['cloudtrail_per_100k_events'])}/100k", assumed=True)
        stored = a.cloudtrail_gb_per_month * a.cloudtrail_months_kept
        out.add("CloudTrail logs in S3", stored * p["s3_standard_per_gb_month"],
                f"{_n(a.cloudtrail_gb_per_month)} GB/month x {_n(a.cloudtrail_months_kept)} months "
                f"kept, assumed, x {_usd(p['s3_standard_per_gb_month'])}/GB-month", assumed=True)

    for line in _log_group_lines(templates, p, a):
        out.lines.append(line)
    out.lines += _flow_logs_in_s3_lines(templates, every or templates, p, a)

    alarms = _resources(templates, "AWS::CloudWatch::Alarm")
    if alarms:
        out.add("CloudWatch alarms", len(alarms) * p["cloudwatch_alarm_per_month"],
                f"{len(alarms)} x {_usd(p['cloudwatch_alarm_per_month'])}/month "
                "(the account's first 10 are free; not deducted)")

    for line in _record_lines(templates, p, a):
        out.lines.append(line)

    for name, repository in _resources(templates, "AWS::ECR::Repository"):
        kept = _kept_images(repository)
        gb = kept * a.image_gb
        out.add(f"ECR images ({_props(repository).get('RepositoryName', name)})",
                gb * p["ecr_per_gb_month"],
                f"{kept} images kept (lifecycle rule) x {_n(a.image_gb)} GB assumed x "
                f"{_usd(p['ecr_per_gb_month'])}/GB-month", assumed=True)

    buckets = _resources(templates, "AWS::S3::Bucket")
    if buckets:
        out.add(f"S3 storage ({len(buckets)} buckets)", a.s3_gb * p["s3_standard_per_gb_month"],
                f"{_n(a.s3_gb)} GB assumed x {_usd(p['s3_standard_per_gb_month'])}/GB-month",
                assumed=True)
    certificates = _resources(templates, "AWS::CertificateManager::Certificate")
    if certificates:
        out.add("ACM certificates", 0.0, f"{len(certificates)} public certificate(s): free")
    return out.lines


def _nat_instance_lines(templates: list[Mapping[str, Any]], p: PriceTable) -> list[CostLine]:
    """The environment's NAT instances (a plain AWS::EC2::Instance that forwards, with
    SourceDestCheck off): each its instance-hours, root volume and public address. No
    per-GB charge, unlike a NAT gateway."""
    nats = [(name, _props(r)) for name, r in _resources(templates, "AWS::EC2::Instance")
            if _props(r).get("SourceDestCheck") in (False, "false")]
    if not nats:
        return []
    h = p.hours_per_month
    lines: list[CostLine] = []
    types = sorted({props.get("InstanceType") for _, props in nats})
    for instance_type in types:
        if not isinstance(instance_type, str):
            raise WimpyError("a NAT instance has no literal InstanceType; the cost estimate "
                             "reads it from the template")
        count = sum(1 for _, props in nats if props.get("InstanceType") == instance_type)
        hourly = p.instance(instance_type)
        lines.append(CostLine(f"NAT instances ({instance_type})", count * hourly * h,
                              f"{count} x {_usd(hourly)}/h x {h:g} h"))
    for _, props in nats[:1]:
        for mapping in props.get("BlockDeviceMappings") or []:
            ebs = mapping.get("Ebs") or {}
            if "VolumeSize" in ebs:
                size = _int(ebs["VolumeSize"], "a NAT instance's VolumeSize")
                price = p.volume(ebs.get("VolumeType", "gp2"))
                lines.append(CostLine(f"NAT instance volumes ({ebs.get('VolumeType', 'gp2')})",
                                      len(nats) * size * price,
                                      f"{len(nats)} x {size} GB x {_usd(price)}/GB-month"))
    public = sum(1 for _, props in nats
                 if any(i.get("AssociatePublicIpAddress") in (True, "true")
                        for i in props.get("NetworkInterfaces") or []))
    if public:
        lines.append(CostLine("NAT instance public IPv4 addresses",
                              public * p["public_ipv4_per_hour"] * h,
                              f"{public} x {_usd(p['public_ipv4_per_hour'])}/h x {h:g} h"))
    return lines


# wimpy_constructs.defaults.NAT_INSTANCE_TYPE and NAT_INSTANCE_ROOT_GIB (not imported: the
# construct library brings the CDK, and `wimpy cost` must start fast); a test keeps them equal.
NAT_INSTANCE_TYPE, NAT_INSTANCE_ROOT_GIB = "t4g.nano", 8


def choice_lines(templates: Iterable[Mapping[str, Any]], p: PriceTable,
                 a: CostAssumptions) -> tuple[CostLine, ...]:
    """What each of wimpy.yml's cost choices adds a month, one unit at a time: a NAT of
    each kind, an instance more of each type the templates run, a load balancer."""
    h = p.hours_per_month
    ipv4 = p["public_ipv4_per_hour"] * h
    gateway = p["nat_gateway_per_hour"] * h + ipv4 + a.nat_gb_per_month * p["nat_gateway_per_gb"]
    nat_type = next((str(_props(r).get("InstanceType")) for _, r in _resources(templates, "AWS::EC2::Instance")
                     if _props(r).get("SourceDestCheck") in (False, "false")), NAT_INSTANCE_TYPE)
    lines = [
        CostLine("a NAT gateway (environments.<name>.nat: gateway), each", gateway,
                 f"{_usd(p['nat_gateway_per_hour'])}/h + its address {_usd(p['public_ipv4_per_hour'])}/h "
                 f"+ {_n(a.nat_gb_per_month)} GB assumed x {_usd(p['nat_gateway_per_gb'])}/GB", True)]
    # A table without a type's price (one of your own, --prices) leaves that choice out
    # rather than fail: the bill above already named what it could price.
    gp3 = p.prices.get("ebs_gp3_per_gb_month")
    if nat_type in p.instances_per_hour and gp3 is not None:
        lines.append(CostLine(
            f"a NAT instance (nat: instance, {nat_type}), each",
            p.instance(nat_type) * h + NAT_INSTANCE_ROOT_GIB * gp3 + ipv4,
            f"{_usd(p.instance(nat_type))}/h + {NAT_INSTANCE_ROOT_GIB} GB gp3 + its address "
            f"{_usd(p['public_ipv4_per_hour'])}/h; no per-GB charge"))
    seen: set[str] = set()
    for _, template in _resources(templates, "AWS::EC2::LaunchTemplate"):
        data = _props(template).get("LaunchTemplateData") or {}
        instance_type = data.get("InstanceType")
        if (not isinstance(instance_type, str) or instance_type in seen
                or instance_type not in p.instances_per_hour or gp3 is None):
            continue
        seen.add(instance_type)
        volume = sum(_int((m.get("Ebs") or {}).get("VolumeSize", 0), "VolumeSize")
                     for m in data.get("BlockDeviceMappings") or [])
        metrics = (a.detailed_monitoring_metrics * p["cloudwatch_metric_per_month"]
                   if (data.get("Monitoring") or {}).get("Enabled") in (True, "true") else 0)
        lines.append(CostLine(f"an instance more ({instance_type}; capacity.min + 1)",
                              p.instance(instance_type) * h + volume * gp3 + metrics,
                              f"{_usd(p.instance(instance_type))}/h + {volume} GB gp3"
                              + (" + its detailed monitoring" if metrics else ""), bool(metrics)))
    lines.append(CostLine("a load balancer (own: per application and environment)",
                          p["alb_per_hour"] * h + a.alb_lcus * p["alb_lcu_per_hour"] * h + 2 * ipv4,
                          f"{_usd(p['alb_per_hour'])}/h + {_n(a.alb_lcus)} LCU assumed + 2 addresses",
                          True))
    lines.append(CostLine("an application more on a shared load balancer",
                          a.alb_lcus * p["alb_lcu_per_hour"] * h,
                          f"its traffic's {_n(a.alb_lcus)} LCU assumed (load_balancer: shared); its "
                          "rule and certificate are free, the hours and addresses shared",
                          True))
    return tuple(lines)


def _instance_lines(name: str, group: Mapping[str, Any], launch_templates: Mapping[str, Any],
                    p: PriceTable, a: CostAssumptions) -> list[CostLine]:
    props = _props(group)
    # A blue/green release priced serving (a kept one is kept_release_cost's).
    count = _int(serving(props.get("MinSize")), f"{name} MinSize")
    maximum = serving(props.get("MaxSize"))
    reference = _ref((props.get("LaunchTemplate") or {}).get("LaunchTemplateId"))
    if reference not in launch_templates:
        raise WimpyError(f"the Auto Scaling group {name} does not name a launch template of "
                         "the same template (LaunchTemplate.LaunchTemplateId); the cost "
                         "estimate reads the instance type from it")
    data = _props(launch_templates[reference]).get("LaunchTemplateData") or {}
    instance_type = data.get("InstanceType")
    if not isinstance(instance_type, str):
        raise WimpyError(f"the launch template {reference} has no literal InstanceType")
    h = p.hours_per_month
    hourly = p.instance(instance_type)
    lines = [CostLine(f"EC2 instances ({instance_type})", count * hourly * h,
                      f"{count} (MinSize; up to {maximum} when scaled) x {_usd(hourly)}/h x {h:g} h")]
    for mapping in data.get("BlockDeviceMappings") or []:
        ebs = mapping.get("Ebs") or {}
        if "VolumeSize" not in ebs:
            continue
        size = _int(ebs["VolumeSize"], f"{reference} VolumeSize")
        volume_type = ebs.get("VolumeType", "gp2")
        price = p.volume(volume_type)
        lines.append(CostLine(f"EBS root volumes ({volume_type})", count * size * price,
                              f"{count} x {size} GB x {_usd(price)}/GB-month"))
    if (data.get("Monitoring") or {}).get("Enabled") in (True, "true"):
        metrics = count * a.detailed_monitoring_metrics
        lines.append(CostLine("Detailed monitoring", metrics * p["cloudwatch_metric_per_month"],
                              f"{count} x {_n(a.detailed_monitoring_metrics)} metrics assumed x "
                              f"{_usd(p['cloudwatch_metric_per_month'])}/metric-month", True))
    return lines


def _log_group_lines(templates: list[Mapping[str, Any]], p: PriceTable,
                     a: CostAssumptions) -> list[CostLine]:
    trail_groups = {_ref(_props(r).get("CloudWatchLogsLogGroupArn"))
                    for _, r in _resources(templates, "AWS::CloudTrail::Trail")}
    flow_groups = {_ref(_props(r).get("LogGroupName"))
                   for _, r in _resources(templates, "AWS::EC2::FlowLog")
                   if _props(r).get("LogDestinationType", "cloud-watch-logs") == "cloud-watch-logs"}
    lines = []
    for name, group in _resources(templates, "AWS::Logs::LogGroup"):
        props = _props(group)
        if name in trail_groups:
            what, gb = "CloudTrail", a.cloudtrail_gb_per_month
        elif name in flow_groups:
            what, gb = "VPC flow logs", a.flow_log_gb_per_month
        else:
            what, gb = f"app {props.get('LogGroupName', name)}", a.app_log_gb_per_month
        retention = props.get("RetentionInDays")
        months = (_int(retention, f"{name} RetentionInDays") / DAYS_PER_MONTH if retention
                  else 12.0)
        kept = (f"{retention} days' retention" if retention else
                "never expires: a year's shown")
        lines.append(CostLine(f"Logs ingestion ({what})", gb * p["cloudwatch_logs_ingest_per_gb"],
                              f"{_n(gb)} GB/month assumed x {_usd(p['cloudwatch_logs_ingest_per_gb'])}/GB",
                              True))
        stored = gb * months
        lines.append(CostLine(f"Logs storage ({what})",
                              stored * p["cloudwatch_logs_storage_per_gb_month"],
                              f"{_n(gb)} GB/month x {months:.1f} months ({kept}; stored "
                              f"uncompressed at most) x {_usd(p['cloudwatch_logs_storage_per_gb_month'])}"
                              "/GB-month", True))
    return lines


def _flow_logs_in_s3_lines(templates: list[Mapping[str, Any]], every: list[Mapping[str, Any]],
                           p: PriceTable, a: CostAssumptions) -> list[CostLine]:
    """Flow logs delivered to S3 (vended logs): the delivery per GB, then S3 storage for as
    long as the bucket's lifecycle rule for their prefix keeps them."""
    lines = []
    for name, flow_log in _resources(templates, "AWS::EC2::FlowLog"):
        props = _props(flow_log)
        if props.get("LogDestinationType") != "s3":
            continue
        destination = props.get("LogDestination")
        days = _expiration_days(every, destination) if isinstance(destination, str) else None
        months = days / DAYS_PER_MONTH if days else 12.0
        kept = (f"expired after {days} days by the bucket's lifecycle rule" if days
                else "no lifecycle rule found: a year's shown")
        gb = a.flow_log_gb_per_month
        lines.append(CostLine("Flow logs delivered to S3", gb * p["vended_logs_to_s3_per_gb"],
                              f"{_n(gb)} GB/month assumed x {_usd(p['vended_logs_to_s3_per_gb'])}/GB "
                              "(vended logs)", True))
        lines.append(CostLine("Flow logs stored in S3", gb * months * p["s3_standard_per_gb_month"],
                              f"{_n(gb)} GB/month x {months:.1f} months ({kept}; gzipped, so "
                              f"less) x {_usd(p['s3_standard_per_gb_month'])}/GB-month", True))
    return lines


def _expiration_days(templates: list[Mapping[str, Any]], destination: str) -> int | None:
    """The ExpirationInDays of the lifecycle rule covering `destination`
    (arn:aws:s3:::<bucket>/<key prefix>), in whichever template declares that bucket."""
    bucket, _, key = destination.split(":::", 1)[-1].partition("/")
    for _, resource in _resources(templates, "AWS::S3::Bucket"):
        props = _props(resource)
        if props.get("BucketName") != bucket:
            continue
        for rule in (props.get("LifecycleConfiguration") or {}).get("Rules") or []:
            if (rule.get("Status") == "Enabled" and "ExpirationInDays" in rule
                    and key.startswith(rule.get("Prefix", ""))):
                return _int(rule["ExpirationInDays"], f"the lifecycle rule {rule.get('Id')}")
    return None


def _record_lines(templates: list[Mapping[str, Any]], p: PriceTable,
                  a: CostAssumptions) -> list[CostLine]:
    lines = []
    seconds = p.hours_per_month * SECONDS_PER_HOUR
    for name, record in _resources(templates, "AWS::Route53::RecordSet"):
        props = _props(record)
        label = props.get("Name", name)
        if "AliasTarget" in props:
            lines.append(CostLine("DNS queries (alias record)", 0.0,
                                  f"{label}: alias queries to a load balancer are free, whatever the TTL"))
            continue
        ttl = _int(props.get("TTL", 300), f"{name} TTL")
        queries = a.dns_resolvers * seconds / max(ttl, 1)
        lines.append(CostLine(f"DNS queries (TTL {ttl} s)", _query_cost(queries, p),
                              f"{label}: {_n(a.dns_resolvers)} resolvers assumed x {seconds:,.0f} s / {ttl} s "
                              f"TTL = {queries:,.0f} queries x "
                              f"{_usd(p['route53_per_million_queries'])}/million", True))
    return lines


def _query_cost(queries: float, p: PriceTable) -> float:
    billion = 1_000_000_000
    first = min(queries, billion)
    rest = max(queries - billion, 0)
    return (first / 1e6 * p["route53_per_million_queries"]
            + rest / 1e6 * p["route53_per_million_queries_over_billion"])


def _kept_images(repository: Mapping[str, Any]) -> int:
    text = (_props(repository).get("LifecyclePolicy") or {}).get("LifecyclePolicyText")
    try:
        rules = json.loads(text)["rules"] if text else []
    except (ValueError, KeyError, TypeError):
        rules = []
    counts = [rule.get("selection", {}).get("countNumber") for rule in rules
              if rule.get("selection", {}).get("countType") == "imageCountMoreThan"]
    counts = [c for c in counts if isinstance(c, int)]
    if not counts:
        raise WimpyError("the ECR repository has no lifecycle rule keeping a number of images "
                         "(imageCountMoreThan); its storage would grow without bound")
    return min(counts)


def hosted_zones(templates: Iterable[Mapping[str, Any]]) -> list[str]:
    """Hosted zones the records go into (by id or name), and any zone a template creates."""
    templates = list(templates)
    zones = {str(_props(r).get("HostedZoneId") or _props(r).get("HostedZoneName"))
             for _, r in _resources(templates, "AWS::Route53::RecordSet")}
    zones |= {f"(created) {name}" for name, _ in _resources(templates, "AWS::Route53::HostedZone")}
    return sorted(zones)


# -- the blue/green overlap ----------------------------------------------------------

_INSTANCE_ITEMS = ("EC2 instances", "EBS root volumes", "Detailed monitoring")
_LOAD_BALANCER_ITEMS = ("Application Load Balancers", "Load balancer public")


def overlap_cost(environment: str, template: Mapping[str, Any], p: PriceTable,
                 a: CostAssumptions, *, expected_seconds: float, worst_seconds: float,
                 own_load_balancer: bool = True) -> Overlap:
    """A blue/green deploy runs a second set of instances (with their volumes and metrics)
    and, through DNS (`own_load_balancer`), a second load balancer, until the old release
    is gone: what that costs an hour, per deploy (for `expected_seconds`) and per month at
    the assumed number of deploys. LCUs are not doubled: the same traffic is split."""
    items = _INSTANCE_ITEMS + (_LOAD_BALANCER_ITEMS if own_load_balancer else ())
    lines = [line for line in _group_lines([template], p, a) if line.item.startswith(items)]
    if own_load_balancer and not any(line.item.startswith("Application Load Balancers") for line in lines):
        raise WimpyError(f"the application template of {environment} has no load balancer; "
                         "cannot price a blue/green overlap through DNS")
    per_hour = sum(line.monthly for line in lines) / p.hours_per_month
    per_deploy = per_hour * expected_seconds / SECONDS_PER_HOUR
    worst = per_hour * worst_seconds / SECONDS_PER_HOUR
    per_month = per_deploy * a.deploys_per_month
    what = "ALB + its addresses + instances, volumes, metrics" if own_load_balancer else \
        "instances, volumes, metrics; the load balancer is shared"
    formula = (f"{_usd(per_hour)}/h ({what}) x "
               f"{expected_seconds / SECONDS_PER_HOUR:.2f} h deploy x "
               f"{_n(a.deploys_per_month)} deploys/month assumed")
    return Overlap(environment=environment, expected_seconds=expected_seconds,
                   worst_seconds=worst_seconds, per_hour=per_hour, per_deploy=per_deploy,
                   per_deploy_worst=worst, per_month=per_month, formula=formula)


def kept_release_cost(template: Mapping[str, Any], p: PriceTable, a: CostAssumptions, *,
                      count: int, warm: bool, own_load_balancer: bool) -> CostLine:
    """What `count` releases kept for rollback cost a month: their alarms always; their
    instances only when kept warm; through DNS, their own load balancers too."""
    items = ("CloudWatch alarms",) + (_INSTANCE_ITEMS if warm else ()) + (
        _LOAD_BALANCER_ITEMS if own_load_balancer else ())
    lines = [line for line in _group_lines([template], p, a) if line.item.startswith(items)]
    each = sum(line.monthly for line in lines)
    what = ", ".join(line.item for line in lines) or "nothing"
    size = "warm, at the minimum capacity" if warm else "at zero instances"
    return CostLine(f"Kept release{'s' if count != 1 else ''} for rollback ({count}, {'warm' if warm else 'zero'})",
                    count * each,
                    f"{count} (deploy.keep_releases) x {_usd(each)}/month ({size}: {what})")


# -- the estimate --------------------------------------------------------------------

def _shown(path: str) -> str:
    """The price table's path, relative to the project when it is the shipped one."""
    root = PRICES_FILE.parents[2]
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return path


SHARED = "account"


def estimate(groups: Mapping[str, Mapping[str, Mapping[str, Any]]], *,
             prices: PriceTable | None = None, assumptions: CostAssumptions = CostAssumptions(),
             application_templates: Mapping[str, Mapping[str, Any]] | None = None,
             deploy_seconds: Mapping[str, tuple[float, float]] | None = None,
             own_load_balancer: bool = True, shared_load_balancer: Iterable[str] = ()) -> CostEstimate:
    """The monthly cost of `groups` (group name -> stack name -> template), e.g. the
    account-wide stacks under "account" and each environment's under its name.

    Hosted zones the records name are charged once, under "account" (one zone serves
    every environment; it is yours, not created by Wimpy). With `application_templates`
    (environment -> its application stack's template) and `deploy_seconds` (environment
    -> expected and worst blue/green deploy seconds), also the overlap of a blue/green
    deploy in each. `own_load_balancer`: a release brings its own (blue/green through DNS),
    except in the environments of `shared_load_balancer`, where every application shares
    one."""
    p = prices or load_prices()
    shared = set(shared_load_balancer)
    a = assumptions
    result: dict[str, tuple[CostLine, ...]] = {}
    every = [template for templates in groups.values() for template in templates.values()]
    for group, templates in groups.items():
        result[group] = tuple(_group_lines(list(templates.values()), p, a, every))
    zones = hosted_zones(every)
    if zones:
        zone_lines = (CostLine(f"Route 53 hosted zone{'s' if len(zones) > 1 else ''}",
                               len(zones) * p["route53_zone_per_month"],
                               f"{len(zones)} ({', '.join(zones)}) x "
                               f"{_usd(p['route53_zone_per_month'])}/month (wimpy.yml's "
                               "hosted_zone; it exists whether or not Wimpy does)"),)
        result[SHARED] = result.get(SHARED, ()) + zone_lines
    overlaps = []
    for environment, template in (application_templates or {}).items():
        expected, worst = (deploy_seconds or {})[environment]
        overlaps.append(overlap_cost(environment, template, p, a, expected_seconds=expected,
                                     worst_seconds=worst,
                                     own_load_balancer=own_load_balancer and environment not in shared))
    notes = (f"Prices: {p.region}, on-demand, {p.currency}, as of {p.as_of} ({_shown(p.path)}); "
             f"{len(p.unverified)} of its {len(p.prices) + len(p.instances_per_hour)} prices "
             "unverified (\"verified\": false: no source found to confirm them).",
             "Lines marked * use an assumption (see --json for all of them); the rest are "
             "counts from the synthesized templates.",
             "Not included: data transfer out to the internet, scaling above MinSize, "
             "free tiers, taxes.")
    return CostEstimate(groups=result, overlaps=tuple(overlaps), prices=p, assumptions=a,
                        notes=notes, choices=choice_lines(every, p, a))
