"""The `s1_process_ia` WorkflowTemplate (rendered by `hera generate yaml workflows/`)."""

from s1tiling_cloud.argo import workflow_template

template = workflow_template("s1_process_ia")
