"""Run the real SAM translator offline: the packaged template becomes the plain
CloudFormation that `aws cloudformation deploy` would create, so cfn-lint checks the
expanded API stage, deployment and functions too, not only the SAM resources.

cfn-lint 1.x validates AWS::Serverless::* against SAM's schemas but no longer runs the
translator itself; this does (aws-sam-translator, installed by `make install`).
"""

from __future__ import annotations

import copy
import json
import logging
import os
from pathlib import Path
from typing import Any

# What `aws cloudformation package` puts in place of a local CodeUri; the translator
# insists on an S3 URI and never reads it.
PLACEHOLDER_CODE_URI = "s3://deployment-artifacts-placeholder/deployment.zip"


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs only when a function lists SAM
    `Policies`; ours use chalice's explicit roles, so nothing is ever looked up."""

    def load(self) -> dict[str, str]:
        return {}


def translate(sam_template: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """The CloudFormation the SAM transform produces for this template (no AWS call)."""
    from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

    document = copy.deepcopy(sam_template)
    for resource in document.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = PLACEHOLDER_CODE_URI
    # The translator asks boto3 for the partition of the session's region.
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    # Its feature-toggle and metrics notices are warnings about its own set-up, not ours.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    result: dict[str, Any] = transform(document, {}, _NoManagedPolicies())
    return result


def translate_file(sam_path: Path, out_path: Path) -> Path:
    """`translate` from one JSON file to another."""
    document = json.loads(sam_path.read_text(encoding="utf-8"))
    out_path.write_text(json.dumps(translate(document), indent=2) + "\n", encoding="utf-8")
    return out_path
