/**
 * What a YAML document's aliases cost once expanded. yaml's own `maxAliasCount` counts alias
 * uses (weighted by the aliases inside the anchored node), not their size: one anchored list
 * of a thousand addresses used by a hundred services passes it, and then every later step
 * (the plain-data copy, validation, policies, endpoints) pays for a hundred thousand values.
 * This walks the parsed nodes once, before anything is built, and says how many values the
 * aliases add, so the parser can refuse a document that multiplies itself.
 */
import YAML from 'yaml';

/**
 * Values (collections and scalars, as plain-data counts them) that expanding every alias adds
 * to `document`. Linear in the document's nodes: each anchored node's size is worked out once.
 */
export function valuesAddedByAliases(document: YAML.Document): number {
  const anchored = new Map<string, unknown>();
  const sizes = new Map<unknown, number>();
  let added = 0;
  const sizeOf = (node: unknown): number => {
    if (YAML.isAlias(node)) {
      // The latest anchor of that name before the alias, as YAML resolves it; an alias to a
      // node still being walked (a recursive one) becomes a shared reference, counted once.
      const size = sizes.get(anchored.get(node.source)) ?? 1;
      added += size - 1;
      return size;
    }
    const anchor = YAML.isNode(node) ? node.anchor : undefined;
    if (anchor !== undefined) anchored.set(anchor, node);
    let size = 1;
    if (YAML.isCollection(node)) {
      for (const item of node.items) {
        if (YAML.isPair(item)) {
          sizeOf(item.key); // a key is not a value, but it may hold anchors and aliases
          size += sizeOf(item.value);
        } else {
          size += sizeOf(item);
        }
      }
    }
    if (anchor !== undefined) sizes.set(node, size);
    return size;
  };
  sizeOf(document.contents);
  return added;
}
