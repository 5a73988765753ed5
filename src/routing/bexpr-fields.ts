/**
 * The fields a bexpr filter may select, with their types, as Consul's filter docs list them for
 * `/v1/health/service/:name` (HEALTHDOC "Filtering"). Types decide at compile time which
 * operators apply and how a value is read (`Service.Port == 8080` compares numbers), so a
 * filter naming an unknown field or comparing a list with `==` fails when it is compiled, not
 * per instance. The subset of these an endpoint keeps (ENDPOINT_FIELDS) is what meshlet can
 * evaluate for a resolver subset without Consul's full health entry.
 */

export type FieldType =
  | { readonly kind: 'string' | 'int' | 'bool' | 'stringList' | 'stringMap' }
  | { readonly kind: 'object'; readonly fields: Readonly<Record<string, FieldType>> }
  /** A list of objects: a selector through it holds when any element satisfies the condition. */
  | { readonly kind: 'objectList'; readonly fields: Readonly<Record<string, FieldType>> };

const string: FieldType = { kind: 'string' };
const int: FieldType = { kind: 'int' };
const bool: FieldType = { kind: 'bool' };
const stringList: FieldType = { kind: 'stringList' };
const stringMap: FieldType = { kind: 'stringMap' };

export const HEALTH_ENTRY_FIELDS: FieldType = {
  kind: 'object',
  fields: {
    Node: {
      kind: 'object',
      fields: { ID: string, Node: string, Address: string, Datacenter: string, TaggedAddresses: stringMap, Meta: stringMap },
    },
    Service: {
      kind: 'object',
      fields: {
        Kind: string,
        ID: string,
        Service: string,
        Tags: stringList,
        Address: string,
        Port: int,
        Meta: stringMap,
        EnableTagOverride: bool,
        Weights: { kind: 'object', fields: { Passing: int, Warning: int } },
        Namespace: string,
        Partition: string,
      },
    },
    Checks: {
      kind: 'objectList',
      fields: { Node: string, CheckID: string, Name: string, Status: string, Notes: string, Output: string, ServiceID: string, ServiceName: string, ServiceTags: stringList, Type: string, Namespace: string },
    },
  },
};

/** What an EndpointAddress keeps of a Consul health entry (src/discovery maps the rest away). */
export const ENDPOINT_FIELDS: FieldType = {
  kind: 'object',
  fields: {
    Service: { kind: 'object', fields: { Tags: stringList, Meta: stringMap, Address: string, Port: int, Weights: { kind: 'object', fields: { Passing: int } } } },
  },
};
