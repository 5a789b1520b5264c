"""The layers: the construct library knows nothing of Wimpy's domain or command; the domain
(wimpy.yml, naming) and the stacks know nothing of the command. Checked on the source, so
an import added anywhere in a module (a function's too) is caught."""

from __future__ import annotations

import ast

import pytest

from cli.toolchain import PROJECT_ROOT

# package -> the top-level packages it must never import
FORBIDDEN = {
    "wimpy_constructs": {"cli", "stacks", "wimpy_domain", "boto3", "docker", "yaml"},
    "wimpy_domain": {"cli", "stacks", "wimpy_constructs", "aws_cdk", "constructs", "boto3", "docker"},
    "stacks": {"cli"},
}


def imported(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(package):
    offenders = {str(path.relative_to(PROJECT_ROOT)): sorted(imported(path) & FORBIDDEN[package])
                 for path in sorted((PROJECT_ROOT / package).rglob("*.py"))}
    assert {path: names for path, names in offenders.items() if names} == {}
