"""Argo Workflows: the plan as Hera workflows, their checks, and the pods' own commands.

The public surface for other modules is `s1tiling_cloud.runners.argo`; this package holds its
parts, one concern per module (defaults, split, names, children, templates, schema, checks,
situation, client, pods).
"""
