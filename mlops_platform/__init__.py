"""mlops-platform: secure, reproducible MLOps infrastructure on AWS as Pulumi components.

Import what you need from its subpackages: `mlops_platform.components` (the component library),
`mlops_platform.policies` (the policy pack's rules), `mlops_platform.pipelines` (SageMaker pipeline
templates) and `mlops_platform.infra` (this project's program and its tooling).

In the installed wheel the subpackages sit beside this file. In a clone of the repository they are the
repository's top-level folders (the layout the design card prescribes), so the package's search path is
extended to the repository root; the folders are not importable under any other name from the program.
"""

from pathlib import Path

__version__ = "0.2.0"

_here = Path(__file__).resolve().parent
if not (_here / "components").is_dir():  # a clone: subpackages are the repository's top-level folders
    __path__.append(str(_here.parent))
