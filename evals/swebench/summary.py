"""The run summary in the official schema (`make_run_report`, schema_version 2), read back from the log folders.

Computed from the files on disk, not from this process's memory, so a resumed run's summary covers the
instances graded by earlier runs too. As in the official report, `infra_failure_ids` is advisory (a
subset of the unresolved and error ids); here it also holds the harness's own infra errors (build
failed, tests timed out), while a patch that does not apply stays a model failure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swebench.harness.infra_failure import TIER_ENVIRONMENT, classify_logs

from mimo_agent.evals.swebench.dataset import Instance
from mimo_agent.evals.swebench.evaluate import ERROR, INSTANCE_LOG, REPORT, TEST_OUTPUT, instance_log_dir
from mimo_agent.evals.swebench.predictions import Prediction


def make_run_report(
    instances: list[Instance],
    predictions: dict[str, Prediction],
    output: Path,
    run_id: str,
    backend: str = "local",
) -> dict[str, Any]:
    ids: dict[str, set[str]] = {
        name: set()
        for name in (
            "completed",
            "incomplete",
            "empty_patch",
            "resolved",
            "unresolved",
            "infra_failure",
            "ambiguous_failure",
            "error",
        )
    }
    reasons: dict[str, str] = {}
    resolutions: dict[str, str] = {}
    for instance in instances:
        instance_id = instance.instance_id
        prediction = predictions.get(instance_id)
        if prediction is None:
            ids["incomplete"].add(instance_id)
            continue
        if not prediction.skip_patch and not prediction.model_patch:
            ids["empty_patch"].add(instance_id)
            continue
        log_dir = instance_log_dir(output, run_id, prediction)
        report_file, error_file = log_dir / REPORT, log_dir / ERROR
        if report_file.is_file():
            ids["completed"].add(instance_id)
            entry = json.loads(report_file.read_text()).get(instance_id, {})
            ids["resolved" if entry.get("resolved") else "unresolved"].add(instance_id)
            resolutions[instance_id] = entry.get("resolution", "")
        else:
            ids["error"].add(instance_id)
            error = (
                json.loads(error_file.read_text())
                if error_file.is_file()
                else {"kind": "not_run", "infra": True}
            )
            reasons[instance_id] = error["kind"]
            if error["infra"]:
                ids["infra_failure"].add(instance_id)
    # the official advisory classification, for failures the harness did not already attribute
    for instance_id in sorted((ids["unresolved"] | ids["error"]) - ids["infra_failure"]):
        log_dir = instance_log_dir(output, run_id, predictions[instance_id])
        classification = classify_logs(log_dir / TEST_OUTPUT, log_dir / INSTANCE_LOG)
        if classification:
            reason, tier = classification
            reasons.setdefault(instance_id, reason)
            ids["infra_failure" if tier == TIER_ENVIRONMENT else "ambiguous_failure"].add(instance_id)
    report: dict[str, Any] = {
        "total_instances": len(instances),
        "submitted_instances": len(predictions),
        "completed_instances": len(ids["completed"]),
        "resolved_instances": len(ids["resolved"]),
        "unresolved_instances": len(ids["unresolved"]),
        "infra_failure_instances": len(ids["infra_failure"]),
        "ambiguous_failure_instances": len(ids["ambiguous_failure"]),
        "empty_patch_instances": len(ids["empty_patch"]),
        "error_instances": len(ids["error"]),
        "completed_ids": sorted(ids["completed"]),
        "incomplete_ids": sorted(ids["incomplete"]),
        "empty_patch_ids": sorted(ids["empty_patch"]),
        "submitted_ids": sorted(predictions),
        "resolved_ids": sorted(ids["resolved"]),
        "unresolved_ids": sorted(ids["unresolved"]),
        "infra_failure_ids": sorted(ids["infra_failure"]),
        "ambiguous_failure_ids": sorted(ids["ambiguous_failure"]),
        "failure_reasons": dict(sorted(reasons.items())),
        "error_ids": sorted(ids["error"]),
        "schema_version": 2,
        "run_id": run_id,
        "backend": backend,
        "resolutions": dict(sorted(resolutions.items())),
    }
    return report


def markdown_summary(report: dict[str, Any], title: str) -> str:
    """A short table for humans: counts, then one row per instance that was not simply resolved."""
    rows = [
        ("total", report["total_instances"]),
        ("submitted", report["submitted_instances"]),
        ("completed", report["completed_instances"]),
        ("resolved", report["resolved_instances"]),
        ("unresolved", report["unresolved_instances"]),
        ("empty patch", report["empty_patch_instances"]),
        ("error", report["error_instances"]),
        ("of which infrastructure", len(set(report["infra_failure_ids"]) & set(report["error_ids"]))),
    ]
    total = report["submitted_instances"] or 1
    lines = [f"## {title}", "", "| | instances |", "|---|---:|"]
    lines += [f"| {name} | {count} |" for name, count in rows]
    lines += [
        "",
        f"Resolved: {report['resolved_instances']}/{report['submitted_instances']} "
        f"({100 * report['resolved_instances'] / total:.1f}%)",
        "",
    ]
    others = [i for i in report["submitted_ids"] if i not in report["resolved_ids"]]
    if others:
        lines += ["| instance | outcome |", "|---|---|"]
        for instance_id in others:
            outcome = (
                report["resolutions"].get(instance_id)
                or report["failure_reasons"].get(instance_id)
                or ("empty patch" if instance_id in report["empty_patch_ids"] else "not graded")
            )
            lines.append(f"| {instance_id} | {outcome} |")
        lines.append("")
    return "\n".join(lines)


def write_run_report(report: dict[str, Any], output: Path, model_dir: str, run_id: str) -> Path:
    """`OUTPUT/MODEL.RUN_ID.json` as the official harness names it, plus a `.md` beside it."""
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"{model_dir}.{run_id}.json"
    path.write_text(json.dumps(report, indent=4) + "\n")
    path.with_suffix(".md").write_text(markdown_summary(report, f"SWE-bench run {run_id} ({model_dir})"))
    return path


def write_summary(
    instances: list[Instance], predictions: dict[str, Prediction], output: Path, run_id: str
) -> tuple[dict[str, Any], Path]:
    """`make_run_report` then `write_run_report`, for the model of `predictions`."""
    report = make_run_report(instances, predictions, output, run_id)
    model_dir = next(iter(predictions.values())).model_dir if predictions else "none"
    return report, write_run_report(report, output, model_dir, run_id)
