"""Markdown for the GitHub job summary (``GITHUB_STEP_SUMMARY``): links, metrics, endpoint and traffic."""

from __future__ import annotations

from typing import Any

from mlops.step_summary import metrics_table


def training_markdown(job_name: str, studio_url: str, metrics: dict[str, Any], model: str) -> str:
    """The training job's metrics as a table, its link and the registered model."""
    job = f"[{job_name}]({studio_url})" if studio_url else job_name
    notes = [f"- Job: {job}"] + ([f"- Registered model: `{model}`"] if model else [])
    scalars = {name: value for name, value in metrics.items() if not isinstance(value, (dict, list))}
    return metrics_table("Training in Azure ML", scalars, notes)


def failure_markdown(title: str, message: str, link: str = "", log_tail: list[str] | None = None) -> str:
    """What failed, the link to look into it, and the end of its log."""
    lines = [f"### {title}", "", f"**Failed:** {message}"]
    if link:
        lines.append(f"- Details: [{link}]({link})")
    if log_tail:
        lines += ["", "```", *log_tail, "```"]
    return "\n".join(lines)


def deployment_markdown(endpoint: str, scoring_uri: str, deployment: str, model: str,
                        traffic: dict[str, int], removed: list[str]) -> str:
    """The endpoint URL, the new deployment, the traffic split and what was removed."""
    shares = ", ".join(f"`{name}` {share}%" for name, share in traffic.items()) or "none"
    lines = ["### Deployment to Azure ML", "", f"- Endpoint: `{endpoint}` at {scoring_uri}",
             f"- New deployment: `{deployment}` serving `{model}`", f"- Traffic: {shares}"]
    if removed:
        lines.append(f"- Removed: {', '.join(f'`{name}`' for name in removed)}")
    return "\n".join(lines)


def promotion_markdown(stage: str, model_uri: str, environment_uri: str, deployment: str,
                       traffic: dict[str, int], *, rollback: bool = False) -> str:
    """Which registry version a stage now serves, under which deployment, with the traffic split."""
    shares = ", ".join(f"`{name}` {share}%" for name, share in traffic.items()) or "none"
    title = f"Rollback of {stage}" if rollback else f"Promotion to {stage}"
    return "\n".join([f"### {title}", "", f"- Model: `{model_uri}`", f"- Scoring environment: `{environment_uri}`",
                      f"- Deployment: `{deployment}`", f"- Traffic: {shares}"])


def shared_markdown(registry: str, model_uri: str, environment_uri: str, version: str) -> str:
    """The exact registry version staging shared, which the production job deploys."""
    return "\n".join(["### Shared to the registry", "", f"- Registry: `{registry}`, version **{version}**",
                      f"- Model: `{model_uri}`", f"- Scoring environment: `{environment_uri}`",
                      f"- Roll production back to it later: Actions > rollback > Run workflow, version `{version}`"])
