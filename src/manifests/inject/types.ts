import {
  ANNOTATION_INJECT,
  INIT_CONTAINER,
  LABEL_INJECT,
  PROXY_CONTAINER,
} from '../../constants.js';
import type { SharedParts } from './containers.js';

/** Injection's data: pod shapes, options, reports and skip reasons (shared by the CLI, the webhook and tests). */

/** A kubelet httpGet probe action. */
export interface HttpGetAction {
  path?: string;
  port: number | string;
  host?: string;
  scheme?: string;
  httpHeaders?: { name: string; value: string }[];
}

/** A kubelet tcpSocket probe action. */
export interface TcpSocketAction {
  port: number | string;
  host?: string;
}

/** A container probe; httpGet and tcpSocket are read (exec runs in the container and is left alone). */
export interface Probe {
  httpGet?: HttpGetAction;
  tcpSocket?: TcpSocketAction;
  [key: string]: unknown;
}

/** A container; fields injection does not read pass through untouched. */
export interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  [key: string]: unknown;
}

/** A pod spec; fields injection does not read pass through untouched. */
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; [key: string]: unknown }[];
  hostNetwork?: boolean;
  restartPolicy?: string;
  shareProcessNamespace?: boolean;
  terminationGracePeriodSeconds?: number;
  [key: string]: unknown;
}

/** A pod template (or a Pod's metadata and spec). */
export interface PodTemplate {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
  spec: PodSpec;
}

// ---------------------------------------------------------------------------------------------
// Options, reports and skip reasons (data, so the CLI, the webhook and tests share them).

export interface InjectOptions {
  /** Run the proxy as a native sidecar (an init container with restartPolicy Always). Resolve with resolveNativeSidecar. */
  nativeSidecar: boolean;
  /** The mesh version doing the injection (default: this build's VERSION). Tests inject as older versions. */
  version?: string;
  /**
   * Labels of the pod's namespace, when known (the webhook knows them; `mesh inject` knows them for
   * Namespace documents earlier in its input). `mesh.dev/inject=disabled` there skips the pod unless
   * the pod itself says `mesh.dev/inject: enabled`.
   */
  namespaceLabels?: Record<string, string>;
  /** Inject even beside another mesh's sidecar (`mesh inject --force`); default false: skipped. */
  force?: boolean;
  /**
   * Build the injected containers and volumes through this memo (deep-frozen, shared between pods)
   * instead of afresh per pod; it must have been made with the same Values. For streams of pods.
   */
  parts?: SharedParts;
}

/**
 * Containers and init containers other meshes add, by name, with the mesh: a pod carrying one is
 * skipped (reason otherMesh) unless forced, since two proxies would both capture its traffic.
 */
export const OTHER_MESH_CONTAINERS: Readonly<Record<string, string>> = {
  'linkerd-proxy': 'Linkerd',
  'linkerd-init': 'Linkerd',
  'istio-proxy': 'Istio',
  'istio-init': 'Istio',
  'istio-validation': 'Istio',
  'consul-dataplane': 'Consul',
  'envoy-sidecar': 'Consul',
  'consul-connect-inject-init': 'Consul',
  'kuma-sidecar': 'Kuma',
  'kuma-init': 'Kuma',
};

/** Why a resource was not injected. The text is what `mesh inject` prints after "skipped: ". */
export const SKIP_REASONS = {
  hostNetwork: 'hostNetwork',
  optedOut: `opted out by annotation ${ANNOTATION_INJECT}=disabled`,
  namespaceOptedOut: `its namespace is labelled ${LABEL_INJECT}=disabled`,
  newerVersion: 'already injected by a newer mesh version',
  unsupportedKind: 'not a workload kind mesh injects',
  noPodTemplate: 'has no pod template',
  otherMesh: "runs another mesh's sidecar",
  nameConflict: `has a container named ${PROXY_CONTAINER} or ${INIT_CONTAINER} that mesh did not add`,
  notInjected: 'not injected',
} as const;
/** The key of a SKIP_REASONS entry (`--report json` prints it as `reason`). */
export type SkipReason = keyof typeof SKIP_REASONS;

/** What happened to a resource. */
export type InjectAction = 'injected' | 'upgraded' | 'unchanged' | 'uninjected' | 'skipped';

/** What happened to one resource. Stable field names: `--report json` prints these. */
export interface InjectReport {
  kind: string;
  name: string;
  namespace?: string;
  action: InjectAction;
  /** Set when action is 'skipped'. */
  reason?: SkipReason;
  /** The reason's text, with detail (e.g. which version injected it). */
  message?: string;
  /** What injection changed, one short phrase each. */
  changes: string[];
  /** Warnings worth reading (e.g. Job pods with a classic sidecar). */
  notes: string[];
}

/** Recorded in the ANNOTATION_STATUS annotation: everything injection added, so uninject is exact. */
export interface InjectStatus {
  version: string;
  nativeSidecar: boolean;
  /** The classic proxy stops when the app containers have exited (run-to-completion pods; see inject/lifecycle.ts). */
  exitWithApp: boolean;
  /** imagePullSecrets injection added (global.imagePullSecrets), removed again by uninject. */
  imagePullSecrets?: string[];
  containers: string[];
  initContainers: string[];
  volumes: string[];
  labels: string[];
  annotations: string[];
  /** Fields that did not exist before injection and are removed again when left empty. */
  absent: string[];
  /** Original probes of app containers whose HTTP probes were rewritten: container -> probe field -> probe. */
  probes: Record<string, Record<string, Probe>>;
}

/** The kinds injected and where their pod template lives. */
export const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};
