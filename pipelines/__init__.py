"""SageMaker pipeline kinds: per kind a definition built with the sagemaker SDK (`<kind>/definition.py`),
its rendered template (`<kind>/definition.template.json`) and its scripts (`<kind>/scripts/`).

Only `pipelines.render` and the `definition` modules import the SDK; `pipelines.template` is what the Pulumi
program uses.
"""
