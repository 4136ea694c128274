import type { Values } from './values.js';

/**
 * Every container image the mesh can deploy, in one place: the addons' defaults here, the mesh's
 * own images from the values (controller, proxy, proxy-init). `mesh manifest images` (issue 21)
 * and air-gapped mirrors read the list from {@link meshImages}.
 *
 * Addon images are pinned by tag. A digest is added where it was verified against the registry;
 * none were at hand when these were chosen (no registry access), so `digest` is left out rather
 * than guessed: a wrong digest fails the pull. Override any of them with
 * `--set addons.NAME.image=REGISTRY/IMAGE:TAG@sha256:...`.
 */
export interface PinnedImage {
  /** Repository, e.g. `prom/prometheus`. */
  repository: string;
  tag: string;
  /** `sha256:...` when verified; the reference then carries it (`repo:tag@sha256:...`). */
  digest?: string;
}

/** The addon images (`mesh install --addons ...`), by addon name. */
export const ADDON_IMAGES = {
  prometheus: { repository: 'prom/prometheus', tag: 'v2.53.3' },
  grafana: { repository: 'grafana/grafana', tag: '11.3.1' },
  jaeger: { repository: 'jaegertracing/all-in-one', tag: '1.63.0' },
} as const satisfies Record<string, PinnedImage>;

/** `repository:tag[@digest]`, the form a pod spec takes. */
export function imageRef(i: PinnedImage): string {
  return `${i.repository}:${i.tag}${i.digest ? `@${i.digest}` : ''}`;
}

/** One image a rendering of `values` deploys, and what runs it. */
export interface ImageUse {
  image: string;
  /** `controller`, `proxy`, `proxyInit` or `addons.NAME`: the values key of the image. */
  usedBy: string;
}

/** The images a rendering of `values` deploys (the mesh's own, then each enabled addon), in a stable order. */
export function meshImages(values: Values): ImageUse[] {
  const out: ImageUse[] = [
    { image: values.controller.image, usedBy: 'controller' },
    { image: values.proxy.image, usedBy: 'proxy' },
    { image: values.proxyInit.image, usedBy: 'proxyInit' },
  ];
  for (const [name, a] of Object.entries(values.addons)) if (a.enabled) out.push({ image: a.image, usedBy: `addons.${name}` });
  return out;
}

// Where the images come from, for every pod mesh renders or injects: `global.registry` replaces
// each image's registry (air-gapped mirrors), `global.imagePullSecrets` is added to each pod spec.

/**
 * An image reference pulled from `registry` instead of its own: the registry part (a first path
 * component with a "." or ":", or "localhost") is dropped and the rest kept, so
 * `envoyproxy/envoy:v1.32.3` and `ghcr.io/mesh-dev/mesh:0.1.0` become `REGISTRY/envoyproxy/envoy:v1.32.3`
 * and `REGISTRY/mesh-dev/mesh:0.1.0`. An empty registry leaves the image as it is.
 */
export function withRegistry(image: string, registry: string): string {
  if (registry === '') return image;
  const [first, ...rest] = image.split('/');
  const hasRegistry = rest.length > 0 && (first!.includes('.') || first!.includes(':') || first === 'localhost');
  return `${registry.replace(/\/+$/, '')}/${hasRegistry ? rest.join('/') : image}`;
}

/** The image a values image key resolves to, after global.registry. */
export function imageFor(values: Values, image: string): string {
  return withRegistry(image, values.global.registry);
}

/** global.imagePullSecrets as pod-spec entries (empty when unset). */
export function pullSecrets(values: Values): { name: string }[] {
  return values.global.imagePullSecrets.split(',').map((n) => n.trim()).filter(Boolean).map((name) => ({ name }));
}
