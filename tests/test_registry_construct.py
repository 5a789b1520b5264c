"""ApplicationRegistry and RegistryStack: the application's ECR repository is scanned on
push, has immutable tags, keeps a bounded number of images, is encrypted and retained, and
passes cdk-nag's AwsSolutions checks and cfn-lint."""

from __future__ import annotations

import ast
import json
import pkgutil
from pathlib import Path

import pytest

from wimpy_cli.toolchain import PROJECT_ROOT

ENV = {"account": "111111111111", "region": "eu-west-1"}


@pytest.fixture
def stack():
    import aws_cdk as cdk

    return cdk.Stack(cdk.App(), "Standalone", env=cdk.Environment(**ENV))


def template_of(stack):
    from aws_cdk.assertions import Template

    return Template.from_stack(stack)


def lifecycle_rules(template) -> list[dict]:
    ((repository,),) = [list(template.find_resources("AWS::ECR::Repository").values())]
    return json.loads(repository["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]


def test_defaults_scan_immutable_one_rule_aes_retained(stack):
    from aws_cdk.assertions import Match

    from wimpy_constructs.registry import ApplicationRegistry

    ApplicationRegistry(stack, "Registry", repository_name="wimpy/web")
    template = template_of(stack)
    template.resource_count_is("AWS::ECR::Repository", 1)
    template.has_resource("AWS::ECR::Repository", {
        "Properties": {
            "RepositoryName": "wimpy/web",
            "ImageScanningConfiguration": {"ScanOnPush": True},
            "ImageTagMutability": "IMMUTABLE",
            "ImageTagMutabilityExclusionFilters": Match.absent(),
            "EncryptionConfiguration": {"EncryptionType": "AES256"},
        },
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    })
    rules = lifecycle_rules(template)
    assert len(rules) == 1
    assert rules[0]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan",
                                     "countNumber": 30}
    assert rules[0]["action"] == {"type": "expire"}


def test_keep_images_and_a_kms_key(stack):
    from aws_cdk import aws_kms as kms
    from aws_cdk.assertions import Match

    from wimpy_constructs.registry import ApplicationRegistry

    key = kms.Key(stack, "Key", enable_key_rotation=True)
    ApplicationRegistry(stack, "Registry", repository_name="team/api", keep_images=7,
                        encryption_key=key)
    template = template_of(stack)
    template.has_resource_properties("AWS::ECR::Repository", {
        "EncryptionConfiguration": {"EncryptionType": "KMS",
                                    "KmsKey": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]}},
    })
    assert [rule["selection"]["countNumber"] for rule in lifecycle_rules(template)] == [7]


def test_mutable_tags_exclude_only_those_tags(stack):
    from wimpy_constructs.registry import ApplicationRegistry

    ApplicationRegistry(stack, "Registry", repository_name="wimpy/web", mutable_tags=["latest"])
    template_of(stack).has_resource_properties("AWS::ECR::Repository", {
        "ImageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
        "ImageTagMutabilityExclusionFilters": [{"ImageTagMutabilityExclusionFilterType": "WILDCARD",
                                                "ImageTagMutabilityExclusionFilterValue": "latest"}],
    })


@pytest.mark.parametrize("kwargs, message", [
    ({"keep_images": 0}, "keep_images must be a whole number of at least 1, got 0"),
    ({"keep_images": -3}, "keep_images must be a whole number of at least 1, got -3"),
    ({"keep_images": 2.5}, "keep_images must be a whole number of at least 1, got 2.5"),
    ({"repository_name": "Wimpy/Web"}, "repository_name must be 2-256 characters of lowercase"),
    ({"repository_name": "wimpy//web"}, "repository_name must be .* got 'wimpy//web'"),
    # A trailing newline would pass a `$`-anchored pattern used with .match.
    ({"repository_name": "wimpy/web\n"}, r"repository_name must be .* got 'wimpy/web\\n'"),
    ({"mutable_tags": ["latest\n"]}, r"mutable_tags: 'latest\\n' is not a tag"),
    ({"mutable_tags": "latest"}, "mutable_tags must be a list of tags, got the string 'latest'"),
    ({"mutable_tags": ["a", "b", "c", "d", "e", "f"]}, "mutable_tags may list at most 5 tags"),
    ({"mutable_tags": ["no spaces"]}, "mutable_tags: 'no spaces' is not a tag"),
])
def test_bad_arguments_are_refused_by_name(stack, kwargs, message):
    from wimpy_constructs.registry import ApplicationRegistry

    with pytest.raises(ValueError, match=message):
        ApplicationRegistry(stack, "Registry", **{"repository_name": "wimpy/web", **kwargs})


# What the construct library must not know of (DESIGN.md: it is importable by any CDK app,
# and knows nothing of the CLI, the config file, boto3 or docker).
NOT_FOR_THE_LIBRARY = {"wimpy_cli", "wimpy_stacks", "wimpy_domain", "boto3", "botocore", "docker", "yaml", "typer",
                       "moto"}


def library_modules() -> dict[str, Path]:
    """Every module of the wimpy_constructs package, sub-packages included, by name."""
    import wimpy_constructs

    root = Path(wimpy_constructs.__file__).parent
    modules = {"wimpy_constructs": root / "__init__.py"}
    for info in pkgutil.walk_packages([str(root)], prefix="wimpy_constructs."):
        path = root.joinpath(*info.name.split(".")[1:])
        modules[info.name] = path / "__init__.py" if info.ispkg else path.with_suffix(".py")
    return modules


def top_level_imports(path: Path) -> set[str]:
    """The top-level package of every absolute import in the file, wherever it sits (in
    a function, under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0}
    return imported


def test_the_construct_library_knows_nothing_of_the_cli():
    modules = library_modules()
    # The walk found the package's modules, sub-packages included (not just one file).
    assert {"wimpy_constructs.registry", "wimpy_constructs.boot",
            "wimpy_constructs.container_service"} <= set(modules), sorted(modules)
    assert len(modules) == len(list((PROJECT_ROOT / "library" / "wimpy_constructs").rglob("*.py")))
    offending = {name: sorted(top_level_imports(path) & NOT_FOR_THE_LIBRARY)
                 for name, path in modules.items()}
    assert {name: found for name, found in offending.items() if found} == {}


def test_the_import_check_is_live(tmp_path):
    """Guards the test above: an import of the CLI is found, inside a function too."""
    module = tmp_path / "leaky.py"
    module.write_text("import aws_cdk\n\ndef f():\n    from wimpy_cli.config import load_config\n"
                      "    import boto3.session\n")
    assert top_level_imports(module) & NOT_FOR_THE_LIBRARY == {"wimpy_cli", "boto3"}


def registry_stack(app_name: str = "web", **kwargs):
    import aws_cdk as cdk

    from wimpy_stacks.registry import RegistryStack

    app = cdk.App(**kwargs)
    stack = RegistryStack(app, f"wimpy-registry-{app_name}", app=app_name, keep_images=12,
                          env=cdk.Environment(**ENV))
    return app, stack


def test_registry_stack_holds_the_apps_repository():
    _, stack = registry_stack("billing")
    template = template_of(stack)
    template.resource_count_is("AWS::ECR::Repository", 1)
    template.has_resource_properties("AWS::ECR::Repository", {
        "RepositoryName": "wimpy/billing", "ImageTagMutability": "IMMUTABLE",
        "ImageScanningConfiguration": {"ScanOnPush": True}})
    assert [rule["selection"]["countNumber"] for rule in lifecycle_rules(template)] == [12]


def test_push_latest_leaves_only_latest_mutable():
    import aws_cdk as cdk

    from wimpy_stacks.registry import RegistryStack

    stack = RegistryStack(cdk.App(), "wimpy-registry-web", app="web", push_latest=True,
                          env=cdk.Environment(**ENV))
    template_of(stack).has_resource_properties("AWS::ECR::Repository", {
        "ImageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
        "ImageTagMutabilityExclusionFilters": [{"ImageTagMutabilityExclusionFilterType": "WILDCARD",
                                                "ImageTagMutabilityExclusionFilterValue": "latest"}]})


def test_registry_stack_is_awssolutions_clean(tmp_path):
    import aws_cdk as cdk
    import cdk_nag

    app, _ = registry_stack(outdir=str(tmp_path))
    validated: list = []

    class Checks(cdk_nag.AwsSolutionsChecks):
        """The pack, recording what it checked and what it concluded."""

        def validate(self, context):
            result = super().validate(context)
            validated.append(([Path(p).name for p in context.template_paths], result.success,
                              [v.rule_name for v in result.violations]))
            return result

    cdk.Validations.of(app).add_plugins(Checks(app))
    app.synth()  # raises on any unacknowledged AwsSolutions finding
    # The pack really ran, on this stack's template, and found nothing.
    assert validated == [(["wimpy-registry-web.template.json"], True, [])]
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert report["pluginReports"] == []  # where a finding would be listed


def test_the_nag_gate_is_live_for_this_stack(tmp_path):
    """Guards the test above: a repository policy open to anyone must fail synthesis."""
    import aws_cdk as cdk
    import cdk_nag
    from aws_cdk import aws_iam as iam

    app, stack = registry_stack(outdir=str(tmp_path))
    stack.registry.repository.add_to_resource_policy(iam.PolicyStatement(
        actions=["ecr:BatchGetImage"], principals=[iam.AnyPrincipal()]))
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
    with pytest.raises(Exception, match="ValidationFailed|Validation failed"):
        app.synth()


def test_registry_stack_passes_cfn_lint():
    from cfnlint.api import ManualArgs, lint

    for push_latest in (False, True):
        import aws_cdk as cdk

        from wimpy_stacks.registry import RegistryStack

        stack = RegistryStack(cdk.App(), "wimpy-registry-web", app="web", push_latest=push_latest,
                              env=cdk.Environment(**ENV))
        matches = lint(json.dumps(template_of(stack).to_json()), config=ManualArgs(regions=["eu-west-1"]))
        assert [f"{m.rule.id} {m.message}" for m in matches] == [], push_latest
