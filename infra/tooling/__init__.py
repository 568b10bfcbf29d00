"""The tooling around the program: the offline preview (mocks, plan, report, policy verdicts), the
cost estimate and the command line. Nothing here runs under `pulumi up`."""
