"""The bootstrap program: what every mlops-platform stack needs before its first `pulumi up` (see
docs/operations.md). Its own Pulumi project (`infra/bootstrap/Pulumi.yaml`), run once per organisation."""

from pathlib import Path

BOOTSTRAP_DIR = Path(__file__).resolve().parent
"""The bootstrap project's folder: `Pulumi.yaml` and the stack files `Pulumi.<stack>.yaml`."""


def preview_bootstrap(stack: str, stacks_dir: Path = BOOTSTRAP_DIR):
    """Run the bootstrap program for `stack` under the offline preview's mocks and return its `Plan`."""
    from mlops_platform.infra.bootstrap.bootstrap_config import PROJECT
    from mlops_platform.infra.tooling import offline

    from . import bootstrap_program

    config = offline.stack_config(stack, stacks_dir)
    account = config.get(f"{PROJECT}:account", offline.MOCK_ACCOUNT)
    region = config.get(f"{PROJECT}:region", offline.MOCK_REGION)
    return offline.record(bootstrap_program.main, stack=stack, config=config, account=account, region=region)
