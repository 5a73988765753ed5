/**
 * Size and range bounds for configuration. Config arrives from files and a shared control
 * store, so a typo or a hostile push must fail validation quickly instead of exhausting
 * memory or producing a policy no layer can honour. One file so the bounds are easy to audit.
 */

/** No policy here needs a duration longer than a day; anything above is a unit mistake. */
export const MAX_DURATION_MS = 24 * 60 * 60 * 1000;
/** Longest string value (paths, URLs, names); a PEM goes in a file, not in the config. */
export const MAX_STRING_LENGTH = 4096;
/** Most items in one array (endpoint lists, tags, retry conditions). */
export const MAX_ARRAY_ITEMS = 1024;
/** Most keys in one object. */
export const MAX_OBJECT_KEYS = 1024;
/** Most services one config may name. */
export const MAX_SERVICES = 512;
/** Deepest nesting accepted; the schema itself is about 6 levels deep. */
export const MAX_DEPTH = 16;
/** Most values (objects, arrays, scalars) in one document. */
export const MAX_VALUES = 200_000;
/** Largest config text accepted by the parser, in characters. */
export const MAX_CONFIG_TEXT_LENGTH = 1024 * 1024;
/** YAML aliases allowed in one document: enough for anchors, too few for a "billion laughs". */
export const MAX_YAML_ALIASES = 100;
/** Most issues reported for one document; the rest are counted. */
export const MAX_REPORTED_ISSUES = 100;
/** Largest TLS file (CA bundle, certificate, key) read at resolve time, in bytes. */
export const MAX_TLS_FILE_BYTES = 1024 * 1024;
/** Most tries per call, the first included (retries and hedges). */
export const MAX_ATTEMPTS = 10;
/** Longest value echoed back in an error message; longer ones are described by their size. */
export const MAX_ECHOED_LENGTH = 40;
/** Longest object key; keys end up in issue paths, so they stay short. */
export const MAX_KEY_LENGTH = 256;
/**
 * Most endpoints one service may have, from its static list or a discovery answer. Each
 * endpoint a client balances over ends up with a pool (about 19 KB of heap in undici) and
 * connections of its own in every client process; a service past this size wants subsetting
 * (Finagle's aperture balancer), which meshlet does not do.
 */
export const MAX_ENDPOINTS_PER_SERVICE = 1000;
/**
 * Most static endpoints in one config, all services together: what one process is asked to
 * balance over. A config this size applies for about 8 MB of heap, no event-loop turn over
 * about 10 ms of CPU (test/config/config-cost.test.ts); a pool made for every one of them
 * would hold about 190 MB, as much as a mesh should ask of one process.
 */
export const MAX_ENDPOINTS_TOTAL = 10_000;
/**
 * Most values YAML aliases may add to one document once expanded: ample to share policy
 * blocks, far below what a document that multiplies one large list through aliases reaches.
 */
export const MAX_YAML_ALIAS_VALUES = 10_000;
