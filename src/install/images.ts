import { imageFor, meshImages as imageUses } from '../manifests/images.js';
import type { Values } from '../manifests/values.js';

/**
 * What `mesh manifest images` prints: every image a rendering of `values` deploys (the one list in
 * manifests/images.ts: control plane, proxy, init container, enabled addons), after
 * global.registry, with the digest a reference pins. Gateways run the proxy image.
 */

/** One image mesh deploys. Stable field names (`mesh manifest images -o json`). */
export interface MeshImage {
  /** The values key of the image: controller, proxy, proxyInit, addons.NAME. */
  component: string;
  /** The reference pods use, after global.registry. */
  image: string;
  /** sha256 digest when the reference pins one ("image@sha256:..."), else null: not pinned. */
  digest: string | null;
}

const digestOf = (image: string): string | null => /@(sha256:[0-9a-f]{64})$/.exec(image)?.[1] ?? null;

/** The images for `values`, in manifests/images.ts's order. */
export function meshImages(values: Values): MeshImage[] {
  return imageUses(values).map((u) => {
    const ref = imageFor(values, u.image);
    return { component: u.usedBy, image: ref, digest: digestOf(ref) };
  });
}
