// Validation of objects against the Kubernetes schema of their kind (kubernetes-models).
import { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { Pod, ReplicationController } from 'kubernetes-models/v1';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  Pod,
  Deployment,
  StatefulSet,
  DaemonSet,
  ReplicaSet,
  ReplicationController,
  Job,
  CronJob,
};

/** Throws (naming the field) when a workload does not validate; other kinds are not checked. */
export function validateWorkload(obj: any): boolean {
  const Model = MODELS[obj?.kind];
  if (!Model) return false;
  new Model(obj).validate();
  return true;
}
