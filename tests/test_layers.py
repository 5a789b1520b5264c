"""The layers above the construct library (which tests/test_registry_construct.py keeps
free of all of Wimpy's): the domain (wimpy.yml, naming) knows neither the command, the
stacks nor the CDK; the stacks know nothing of the command. Checked on the source, so an
import anywhere in a module (a function's too) is caught."""

from __future__ import annotations

import pytest

from wimpy_cli.toolchain import PROJECT_ROOT
from tests.test_registry_construct import top_level_imports

# package -> the top-level packages it must never import
FORBIDDEN = {
    "wimpy_domain": {"wimpy_cli", "wimpy_stacks", "wimpy_constructs", "aws_cdk", "constructs", "boto3", "docker"},
    "wimpy_stacks": {"wimpy_cli"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(package):
    modules = sorted((PROJECT_ROOT / package).rglob("*.py"))
    assert len(modules) > 5  # the package's modules, sub-packages included
    offenders = {str(path.relative_to(PROJECT_ROOT)): sorted(top_level_imports(path) & FORBIDDEN[package])
                 for path in modules}
    assert {path: names for path, names in offenders.items() if names} == {}
