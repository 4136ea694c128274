import { LABEL_MANAGED_BY, LABEL_PART_OF, MANAGED_BY, PART_OF } from '../constants.js';
import type { KubeObject } from '../cluster/types.js';
import { MeshError, ExitCode } from '../errors.js';

/**
 * Who manages each CRD an upgrade would touch (linkerd2#8373, #15471, consul#23302): mesh, a Helm
 * release, another tool, or nobody yet. Pure: takes the rendered CRDs and their live counterparts.
 */

/** One CRD the upgrade would write, and who manages it now. Stable field names (upgrade -o json). */
export interface CrdOwner {
  name: string;
  /** mesh | helm | other | absent (not in the cluster: the upgrade creates it). */
  manager: 'mesh' | 'helm' | 'other' | 'absent';
  /** In words: "mesh", "Helm release istio-system/istio-base", "kustomize-controller", "-". */
  detail: string;
  /** Versions objects are stored in (status.storedVersions) that the new CRD no longer serves. */
  droppedStoredVersions: string[];
}

/** Who manages a live CRD, from its labels, Helm's annotations and its field managers. */
function managerOf(live: KubeObject): Pick<CrdOwner, 'manager' | 'detail'> {
  const labels = live.metadata.labels ?? {};
  const ann = live.metadata.annotations ?? {};
  if (labels[LABEL_MANAGED_BY] === MANAGED_BY && labels[LABEL_PART_OF] === PART_OF) return { manager: 'mesh', detail: 'mesh' };
  const release = ann['meta.helm.sh/release-name'];
  if (labels[LABEL_MANAGED_BY] === 'Helm' || release !== undefined) {
    const ns = ann['meta.helm.sh/release-namespace'];
    return { manager: 'helm', detail: release ? `Helm release ${ns ? `${ns}/` : ''}${release}` : 'Helm' };
  }
  const managers = ((live.metadata as { managedFields?: { manager?: string }[] }).managedFields ?? []).map((f) => f.manager).filter((m): m is string => !!m);
  const by = labels[LABEL_MANAGED_BY] ?? [...new Set(managers)].join(', ');
  return { manager: 'other', detail: by || 'unknown (no managed-by label)' };
}

/**
 * The ownership of each rendered mesh CRD (labelled part of mesh), against the live CRDs (matched
 * by name). The Gateway API CRDs mesh can install are left out: gateway-api.ts decides about them.
 */
export function crdOwners(rendered: readonly KubeObject[], live: readonly KubeObject[]): CrdOwner[] {
  return rendered.filter((o) => o.kind === 'CustomResourceDefinition' && o.metadata.labels?.[LABEL_PART_OF] === PART_OF).map((crd) => {
    const l = live.find((x) => x.kind === 'CustomResourceDefinition' && x.metadata.name === crd.metadata.name);
    if (!l) return { name: crd.metadata.name, manager: 'absent', detail: '-', droppedStoredVersions: [] };
    const served = new Set(((crd.spec as { versions?: { name: string }[] } | undefined)?.versions ?? []).map((v) => v.name));
    const stored = (l.status as { storedVersions?: string[] } | undefined)?.storedVersions ?? [];
    return { name: crd.metadata.name, ...managerOf(l), droppedStoredVersions: stored.filter((v) => !served.has(v)) };
  });
}

/**
 * Refuse an upgrade that would overwrite CRDs mesh does not manage (unless `takeOver`), or drop a
 * version objects are still stored in (always: the API server would fail to read them).
 */
export function assertCrdsUpgradable(owners: readonly CrdOwner[], takeOver: boolean): void {
  const dropped = owners.filter((o) => o.droppedStoredVersions.length);
  if (dropped.length) {
    const o = dropped[0]!;
    throw new MeshError(`CRD ${o.name}: objects are still stored as ${o.droppedStoredVersions.join(', ')}, which this version no longer serves`, {
      hint: `migrate them to a served version (re-write each object, e.g. with the kube-storage-version-migrator) and remove ${o.droppedStoredVersions.join(', ')} from status.storedVersions, then upgrade again`,
      exitCode: ExitCode.Failed,
    });
  }
  const foreign = owners.filter((o) => o.manager === 'helm' || o.manager === 'other');
  if (foreign.length && !takeOver) {
    throw new MeshError(`refusing to overwrite CRDs mesh does not manage: ${foreign.map((o) => `${o.name} (${o.detail})`).join(', ')}`, {
      hint: 'upgrade them with the tool that manages them, or pass --take-over-crds to let mesh manage them from now on',
      exitCode: ExitCode.Failed,
    });
  }
}
