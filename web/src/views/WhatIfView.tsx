// What-if: build one or more plans, run them against the baseline (POST /scenarios, Engineer role), follow the job
// on the live stream (`scenario` messages) and compare the results side by side (docs/WHATIF.md).

import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { ScenarioJob, ScenarioProgress } from "../api/types";
import { notify } from "../components/Toast";
import { errorText } from "../hooks/usePolling";
import { refusal, useSession } from "../session";
import { useTwin } from "../state/store";
import { emptyPlan, isFinal, requestBody, type PlanDraft } from "../whatif";
import { EarlierJobs } from "./whatif/EarlierJobs";
import { JobProgress } from "./whatif/JobProgress";
import { PlanEditor } from "./whatif/PlanEditor";
import { Results } from "./whatif/Results";

const MAX_PLANS = 4;
/** Ask the server now and then too: a stream that reconnected may have missed the job's last message. */
const POLL_MS = 10_000;

function progressOf(job: ScenarioJob): ScenarioProgress {
  return {
    type: "scenario",
    job_id: job.id,
    state: job.state,
    progress: job.progress,
    message: job.message ?? "",
    names: job.names,
    updated_at: job.finished_at ?? job.started_at ?? job.created_at,
  };
}

export function WhatIfView() {
  const me = useSession();
  const denied = refusal(me, "engineer");
  const [plans, setPlans] = useState<PlanDraft[]>(() => [emptyPlan("scenario 1")]);
  const [horizonH, setHorizonH] = useState(168);
  const [runs, setRuns] = useState(100);
  const [seed, setSeed] = useState(0);
  const [job, setJob] = useState<ScenarioJob | null>(null);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const streamed = useTwin((s) => (job ? s.scenarios[job.id] : undefined));
  const progress = job ? (streamed ?? progressOf(job)) : null;
  const final = progress !== null && isFinal(progress.state);

  // Once the job is over (told by the stream, or seen by a poll), fetch it with its results.
  useEffect(() => {
    if (!job || isFinal(job.state)) return;
    let cancelled = false;
    const fetchJob = (): void => {
      api.scenario(job.id).then(
        (j) => {
          if (!cancelled && (isFinal(j.state) || j.progress !== job.progress)) setJob(j);
        },
        (e: unknown) => notify(`Could not read the what-if job: ${errorText(e)}`, "warn"),
      );
    };
    if (final) fetchJob();
    const timer = setInterval(fetchJob, POLL_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [job, final]);

  const run = async (): Promise<void> => {
    setBusy(true);
    setSubmitError(null);
    try {
      setJob(await api.createScenario(requestBody(plans, horizonH, runs, seed)));
    } catch (e) {
      setSubmitError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const cancel = (): void => {
    if (!job) return;
    api.cancelScenario(job.id).then(setJob, (e: unknown) => notify(`Could not cancel: ${errorText(e)}`, "warn"));
  };
  const open = (id: string): void => {
    api.scenario(id).then(setJob, (e: unknown) => notify(`Could not read the what-if job: ${errorText(e)}`, "warn"));
  };
  const running = progress !== null && !final;
  const result = job?.state === "done" ? job.result : null;

  return (
    <div className="scroll whatif" data-testid="whatif-view">
      <div className="card whatif-setup">
        <div className="card-h">
          Plans <span className="faint">(each against the baseline: the plant as it goes, nothing changed)</span>
        </div>
        <div className="whatif-run-row">
          <label>
            horizon h{" "}
            <input
              type="number"
              min={1}
              max={2160}
              value={horizonH}
              onChange={(e) => setHorizonH(Math.max(1, Number(e.target.value) || 1))}
              className="whatif-num"
              data-testid="whatif-horizon"
            />
          </label>
          <label>
            runs{" "}
            <input
              type="number"
              min={2}
              max={1000}
              value={runs}
              onChange={(e) => setRuns(Math.max(2, Math.round(Number(e.target.value) || 2)))}
              className="whatif-num"
              data-testid="whatif-runs"
            />
          </label>
          <label>
            seed{" "}
            <input
              type="number"
              min={0}
              value={seed}
              onChange={(e) => setSeed(Math.max(0, Math.round(Number(e.target.value) || 0)))}
              className="whatif-num"
            />
          </label>
          <button
            className="btn"
            disabled={plans.length >= MAX_PLANS}
            onClick={() => setPlans([...plans, emptyPlan(`scenario ${plans.length + 1}`)])}
            data-testid="whatif-add-plan"
          >
            + scenario
          </button>
          <button
            className="btn primary"
            disabled={denied !== null || busy || running}
            title={denied ?? undefined}
            onClick={() => void run()}
            data-testid="whatif-run"
          >
            Run
          </button>
          <EarlierJobs current={job?.id ?? null} currentState={job?.state ?? null} onOpen={open} />
          {denied && (
            <span className="faint" data-testid="whatif-denied">
              {denied}
            </span>
          )}
        </div>
        {submitError && (
          <div className="whatif-error" data-testid="whatif-submit-error">
            Not started: {submitError}
          </div>
        )}
      </div>
      <div className="whatif-plans">
        {plans.map((p, i) => (
          <PlanEditor
            key={i}
            index={i}
            plan={p}
            horizonH={horizonH}
            onChange={(np) => setPlans(plans.map((x, k) => (k === i ? np : x)))}
            onRemove={plans.length > 1 ? () => setPlans(plans.filter((_, k) => k !== i)) : null}
          />
        ))}
      </div>
      {progress && <JobProgress progress={progress} onCancel={running && denied === null ? cancel : null} />}
      {job && result && <Results job={job} result={result} />}
    </div>
  );
}
