"""Resource-option helpers shared by the components."""

import pulumi


def stateful(child: pulumi.ResourceOptions, component_opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """Options for a child that holds data (a bucket, a key).

    Pulumi inherits `protect` from the parent but not `retain_on_delete`; this carries the component's
    `retain_on_delete` down to the stateful children, so callers set both once, on the component.
    """
    retain = component_opts.retain_on_delete if component_opts else None
    return pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(retain_on_delete=retain))
