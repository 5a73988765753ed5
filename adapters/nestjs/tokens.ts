/** Nest injection tokens: the mesh, and one per upstream service (its ServiceClient). */
export const MESH = Symbol.for('meshlet:mesh');

export function upstreamToken(name: string): string {
  return `meshlet:upstream:${name}`;
}
