"""The bootstrap program: what every mlops-platform stack needs before its first `pulumi up` (see
docs/operations.md). Its own Pulumi project (`infra/bootstrap/Pulumi.yaml`), run once per organisation."""
