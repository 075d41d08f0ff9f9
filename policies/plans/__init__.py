"""Supply plans (供电方案): the pure plan engine and the grid values it reads.

The engine takes an application profile and a snapshot of the nearby grid resources, and
answers the access voltage, power sources, connection points, investment boundary, supporting
works, approvals and outage tier, each decision citing its clause. No I/O: the read model and
the activities turn database rows into the values of `policies.plans.resources`.
"""
