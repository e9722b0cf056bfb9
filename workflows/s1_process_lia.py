"""The `s1_process_lia` WorkflowTemplate (rendered by `hera generate yaml workflows/`)."""

from s1tiling_cloud.argo import workflow_template

template = workflow_template("s1_process_lia")
